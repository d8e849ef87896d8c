"""The access export holds every record about the customer and nothing about anyone else.

Two customers with the same kinds of records; the expected ids of each kind are read here with
plain queries of their own (by the customer's key, the steps through the customer's tickets),
not through privacy.access, and compared with what the JSON holds; the .xlsx read back with
openpyxl holds the same rows.
"""

import io
import json

import openpyxl
import pytest

from closures.models import Closure, ClosureRequest
from crm.models import AuditEntry
from customers.models import ContactConsent, Customer, Interaction, LedgerEntry, Purchase
from followups.models import Answer, Followup
from insights.models import RetentionAction, RiskWarning, Score
from privacy import access
from privacy.models import DataRequest
from service.models import Step, Ticket

from .history import long_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_customers(staff_user, manager_user, admin_user):
    people = {"staff": staff_user, "manager": manager_user, "admin": admin_user}
    mine = long_history(**people, name="欧阳娜娜", phone="+8613911112222")
    other = long_history(**people, name="司马光明", phone="+8613933334444")
    return mine, other


def expected_ids(card: Customer) -> dict[str, set]:
    pk = card.pk
    tickets = list(Ticket.objects.filter(customer_id=pk).values_list("id", flat=True))
    return {
        "card": {pk},
        "purchases": set(Purchase.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "interactions": set(Interaction.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "ledger": set(LedgerEntry.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "consents": set(ContactConsent.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "closures": set(Closure.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "closure_requests": set(ClosureRequest.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "followups": set(Followup.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "answers": set(Answer.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "tickets": set(tickets),
        "steps": set(Step.objects.filter(ticket_id__in=tickets).values_list("id", flat=True)),
        "scores": set(Score.objects.filter(customer_id=pk).values_list("customer_id", flat=True)),
        "risk_warnings": set(RiskWarning.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "retention_actions": set(RetentionAction.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "data_requests": set(DataRequest.objects.filter(customer_id=pk).values_list("id", flat=True)),
        "audit": set(AuditEntry.objects.filter(customer_id=pk).values_list("id", flat=True)),
    }


def _pk_of(key: str) -> str:
    return "customer_id" if key == "scores" else "id"


def held_ids(data: dict) -> dict[str, set]:
    return {key: {row[_pk_of(key)] for row in rows} for key, rows in data["sections"].items()}


def test_the_export_holds_every_record_about_the_customer(two_customers):
    mine, _other = two_customers
    expected = expected_ids(mine)
    assert held_ids(access.collect(mine)) == expected
    # The history really is long: the export is not trivially right.
    assert len(expected["purchases"]) == 3 and len(expected["interactions"]) == 2
    assert len(expected["closures"]) == 2 and len(expected["followups"]) == 2 and len(expected["answers"]) == 1
    assert len(expected["tickets"]) == 2 and len(expected["steps"]) == 2 and expected["consents"]
    assert len(expected["audit"]) >= 6 and expected["ledger"] and expected["scores"] and expected["data_requests"]


def test_the_export_holds_nothing_about_another_customer(two_customers):
    mine, other = two_customers
    data = access.collect(mine)
    theirs = expected_ids(other)
    for key, ids in held_ids(data).items():
        assert not ids & theirs[key], key
    text = json.dumps(data, ensure_ascii=False)
    for value in (other.customer_no, other.name, other.phone, other.email, "司马光明"):
        assert value not in text
    assert mine.customer_no in text and "欧阳娜娜" in text


def test_a_reverted_closure_and_the_one_after_it_are_both_in_the_export(two_customers):
    mine, _other = two_customers
    closures = access.collect(mine)["sections"]["closures"]
    assert sorted(bool(row["reverted_at"]) for row in closures) == [False, True]
    assert {row["notes"] for row in closures} == {"太贵", "还是太贵"}


def test_a_follow_ups_link_key_and_the_search_index_are_left_out(two_customers):
    sections = access.collect(two_customers[0])["sections"]
    assert "key" not in sections["followups"][0]
    assert "phone_rev" not in sections["card"][0]
    assert sections["card"][0]["phone"] == "+8613911112222"


def _normalised(value):
    value = access.cell(value)
    return None if value == "" else value


def test_the_xlsx_holds_the_same_rows_as_the_json(two_customers):
    data = access.collect(two_customers[0])
    out = io.BytesIO()
    written = access.write_xlsx(data, out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    assert written == access.row_count(data)
    assert len(book.sheetnames) == len(access.SECTIONS)
    for section, name in zip(access.SECTIONS, book.sheetnames, strict=True):
        rows = list(book[name].iter_rows(values_only=True))
        assert list(rows[0]) == access.headers(section)
        expected = [[_normalised(v) for v in row.values()] for row in data["sections"][section.key]]
        width = len(rows[0])  # a row's trailing empty cells are not in the file
        assert [list(row) + [None] * (width - len(row)) for row in rows[1:]] == expected, section.key


def test_the_json_file_is_the_collected_data(two_customers):
    data = access.collect(two_customers[0])
    out = io.BytesIO()
    access.write_json(data, out)
    assert json.loads(out.getvalue().decode()) == data
