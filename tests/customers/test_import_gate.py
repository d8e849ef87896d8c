"""Import writes through the card gate: the same rules as the card page, and a history per card.

Reproductions: a CSV renamed a closed card and raised its balance from 0 to 88 with nothing on the
card's history; "case-0005" next to "CASE-0005" became two cards; re-importing "tel-0002-orfbo"
counted a new customer instead of updating TEL-0002-ORFBO.
"""

import io
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import AuditEntry
from customers import imports
from customers.models import Customer, ImportBatch
from tests.factories import CustomerFactory
from tests.fixtures.customer_files import csv_bytes

pytestmark = pytest.mark.django_db


def run(rows, user, *, header=("customer_no", "name", "balance"), commit=True, name="cards.csv"):
    data = csv_bytes([], header=list(header), raw_rows=[list(r) for r in rows])
    return imports.import_customers(io.BytesIO(data), name, user=user, commit=commit)


def problems(report) -> list[str]:
    return [str(p) for p in report.problems]


@pytest.mark.parametrize("status", ["closed", "void", "archived"])
def test_rows_for_closed_void_or_archived_cards_are_problems_and_nothing_is_written(admin_user, status):
    closed = CustomerFactory(customer_no="C000123", name="原名", status=status, balance=Decimal("0"))
    report = run([["C000123", "Renamed", "88"], ["NEW-1", "新客户", "0"]], admin_user)
    assert not report.written
    assert problems(report) == [
        f"Line 2, customer_no: Card C000123 is {status}: reinstate it first to change it. Or remove the row."
    ]
    closed.refresh_from_db()
    assert (closed.name, closed.balance) == ("原名", Decimal("0.00"))
    assert not Customer.objects.filter(customer_no="NEW-1").exists()
    assert not AuditEntry.objects.exists()


def test_the_preview_lists_a_closed_card_with_its_line_and_column(admin_client, admin_user):
    CustomerFactory(customer_no="C000123", status="closed")
    data = csv_bytes([], header=["customer_no", "name"], raw_rows=[["C000123", "Renamed"]])
    upload = io.BytesIO(data)
    upload.name = "cards.csv"
    html = admin_client.post(reverse("customers:import"), {"file": upload}).content.decode()
    assert "C000123 is closed: reinstate it first to change it. Or remove the row." in html


def test_each_changed_card_gets_its_own_history_entry_with_old_and_new_values(admin_client, admin_user):
    card = CustomerFactory(customer_no="TEL-0001", name="张伟", balance=Decimal("10.00"))
    unchanged = CustomerFactory(customer_no="TEL-0002", name="李娜", balance=Decimal("0.00"))
    report = run([["TEL-0001", "张伟伟", "12.50"], ["TEL-0002", "李娜", "0"], ["TEL-0003", "王芳", "1"]], admin_user)
    assert report.written and (report.created, report.updated, report.unchanged) == (1, 1, 1)

    entry = AuditEntry.objects.get(customer_id=card.pk)
    assert (entry.action, entry.actor) == ("customer.update", admin_user)
    assert entry.changes == {"name": ["张伟", "张伟伟"], "balance": ["10.00", "12.50"]}
    batch = ImportBatch.objects.get()
    assert entry.data == {"source": {"kind": "import", "file": "cards.csv", "line": 2, "batch": batch.pk}}
    assert not AuditEntry.objects.filter(customer_id=unchanged.pk).exists()
    new = Customer.objects.get(customer_no="TEL-0003")
    created = AuditEntry.objects.get(customer_id=new.pk)
    assert created.action == "customer.create"
    assert created.changes["name"] == [None, "王芳"]
    assert created.data["source"]["line"] == 4

    html = admin_client.get(reverse("customers:card", kwargs={"pk": card.pk})).content.decode()
    history = html[html.index('id="h-history"') :]
    assert "张伟伟" in history and "12.50" in history


def test_numbers_that_differ_only_by_case_in_one_file_are_one_number(admin_user):
    report = run([["case-0005", "甲", "0"], ["CASE-0005", "乙", "0"]], admin_user, commit=False)
    assert problems(report) == [
        "Line 3, customer_no: CASE-0005 is also on line 2; each customer number may appear once."
    ]


def test_a_number_in_another_case_updates_the_existing_card(admin_user):
    existing = CustomerFactory(customer_no="TEL-0002-ORFBO", name="旧名")
    report = run([["tel-0002-orfbo", "新名", "0"]], admin_user)
    assert (report.created, report.updated) == (0, 1)
    existing.refresh_from_db()
    assert existing.name == "新名"
    assert Customer.objects.count() == 1


def test_new_numbers_are_stored_in_their_canonical_form(admin_user):
    run([["brk-0005", "甲", "0"]], admin_user)
    assert list(Customer.objects.values_list("customer_no", flat=True)) == ["BRK-0005"]


@pytest.mark.postgres
def test_imported_names_are_found_by_one_and_two_characters(admin_client, admin_user):
    """Cards go in with COPY on PostgreSQL: the name-gram trigger must still index them."""
    run([["GRAM-1", "欧阳娜娜", "0"]], admin_user)
    page = admin_client.get(reverse("customers:search"), {"q": "娜娜"}).content.decode()
    assert "GRAM-1" in page
    assert "GRAM-1" in admin_client.get(reverse("customers:search"), {"q": "欧"}).content.decode()
