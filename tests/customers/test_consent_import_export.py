"""The language for messages and contact consent in customer files: import columns, export columns, round trips."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from crm.models import AuditEntry
from customers import consent, exports, gate, imports
from customers.models import ContactConsent, Customer
from tests.customers.test_export import csv_of, read_csv, read_xlsx, xlsx_of
from tests.factories import CustomerFactory
from tests.fixtures.customer_files import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = ["customer_no", "name", "language", "email_marketing", "sms_marketing", "phone_marketing", "do_not_contact"]
CHINESE_HEADER = ["客户编号", "姓名", "语言", "邮件营销", "短信营销", "电话营销", "请勿联系"]
WRITERS = {"xlsx": xlsx_bytes, "csv": csv_bytes}


def run(data: bytes, name: str, user, *, commit: bool = True) -> imports.ImportReport:
    return imports.import_customers(io.BytesIO(data), name, user=user, commit=commit)


def problems(report) -> list[str]:
    return [str(p) for p in report.problems]


def allowed(customer) -> dict:
    """{channel: (marketing, do_not_contact)} as stored now."""
    return {c: (row.marketing, row.do_not_contact) for c, row in consent.consents_of(customer).items()}


# --- Import ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_file_sets_language_and_consent_of_new_and_existing_cards(admin_user, fmt):
    old = CustomerFactory(customer_no="OLD1", name="李娜", language="en")
    data = WRITERS[fmt](
        [],
        header=HEADER,
        raw_rows=[
            ["NEW1", "Alice Wong", "English", "yes", "否", "", "no"],
            ["OLD1", "李娜", "简体中文", "是", "", "yes", ""],
            ["NEW2", "王芳", "中文", "", "", "", "是"],
        ],
    )

    report = run(data, f"consent.{fmt}", admin_user)

    assert report.written, (report.file_errors, problems(report))
    assert (report.created, report.updated) == (2, 1)
    alice, wang = Customer.objects.get(customer_no="NEW1"), Customer.objects.get(customer_no="NEW2")
    old.refresh_from_db()
    assert (alice.language, old.language, wang.language) == ("en", "zh-hans", "zh-hans")
    assert allowed(alice) == {"email": (True, False), "sms": (False, False), "phone": (False, False)}
    assert allowed(old) == {"email": (True, False), "sms": (False, False), "phone": (True, False)}
    assert allowed(wang) == {"email": (False, True), "sms": (False, True), "phone": (False, True)}
    given = ContactConsent.objects.get(customer=old, channel="email")
    assert given.marketing_how == f"consent.{fmt}:3" and given.marketing_at is not None
    entry = AuditEntry.objects.get(customer_id=old.pk, action="customer.consent")
    assert entry.changes == {"email.marketing": [False, True], "phone.marketing": [False, True]}
    assert entry.data["source"] == {"kind": "import", "file": f"consent.{fmt}", "line": 3, "batch": report.batch_id}
    assert entry.data["how"] == f"consent.{fmt}:3" and entry.actor == admin_user
    assert AuditEntry.objects.get(customer_id=old.pk, action="customer.update").changes == {
        "language": ["en", "zh-hans"]
    }


def test_chinese_headers_are_read_and_a_second_import_changes_nothing(admin_user):
    data = xlsx_bytes([], header=CHINESE_HEADER, raw_rows=[["CN1", "王芳", "中文", "是", "否", "否", "否"]])
    assert run(data, "a.xlsx", admin_user).written

    again = run(data, "a.xlsx", admin_user)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert AuditEntry.objects.filter(action="customer.consent").count() == 1  # the first import's


def test_bad_values_are_problems_of_their_row_and_nothing_is_written(admin_user):
    data = csv_bytes(
        [],
        header=HEADER,
        raw_rows=[["B1", "甲", "French", "maybe", "", "", ""], ["B2", "乙", "", "", "", "", "sometimes"]],
    )

    report = run(data, "bad.csv", admin_user)

    assert not report.written
    assert problems(report) == [
        "Line 2, language: “French” is not one of the accepted values "
        "(en, zh-hans, or their names in English or Chinese).",
        "Line 2, email_marketing: “maybe” is not yes or no (also 是 or 否).",
        "Line 3, do_not_contact: “sometimes” is not yes or no (also 是 or 否).",
    ]
    assert not Customer.objects.exists() and not ContactConsent.objects.exists()


def test_the_preview_page_shows_a_bad_consent_value_on_its_row(admin_client):
    data = csv_bytes([], header=HEADER, raw_rows=[["B1", "甲", "en", "perhaps", "", "", ""]])

    response = admin_client.post(
        "/customers/import/", {"file": io.BytesIO(data) and _upload("bad.csv", data)}, follow=True
    )

    assert "“perhaps” is not yes or no (also 是 or 否)." in response.text


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_a_closed_cards_row_may_change_its_consent_and_nothing_else(admin_user):
    CustomerFactory(customer_no="GONE", name="赵六", status=Customer.Status.CLOSED)
    unsubscribe = csv_bytes([], header=HEADER[:2] + ["do_not_contact"], raw_rows=[["GONE", "赵六", "yes"]])
    rename = csv_bytes([], header=HEADER[:2] + ["do_not_contact"], raw_rows=[["GONE", "赵六六", "yes"]])

    refused = run(rename, "rename.csv", admin_user)
    assert not refused.written and "reinstate it first" in problems(refused)[0]
    assert run(unsubscribe, "unsubscribe.csv", admin_user).written

    gone = Customer.objects.get(customer_no="GONE")
    assert gone.name == "赵六" and gone.status == Customer.Status.CLOSED
    assert allowed(gone) == {"email": (False, True), "sms": (False, True), "phone": (False, True)}


def test_an_erased_cards_row_is_refused_even_for_consent(admin_user):
    CustomerFactory(customer_no="ERASED", name="[erased]", status=Customer.Status.ERASED)
    data = csv_bytes([], header=["customer_no", "name", "do_not_contact"], raw_rows=[["ERASED", "[erased]", "yes"]])

    report = run(data, "e.csv", admin_user)

    assert not report.written and "can never be changed again" in problems(report)[0]
    assert not ContactConsent.objects.exists()


def _import_queries(admin_user, count: int) -> int:
    existing = [CustomerFactory(customer_no=f"Q{count}-{n}") for n in range(count)]
    rows = [[c.customer_no, c.name, "en", "yes", "no", "yes", "no"] for c in existing]
    rows += [[f"N{count}-{n}", f"新{n}", "中文", "是", "", "", ""] for n in range(count)]
    data = csv_bytes([], header=HEADER, raw_rows=rows)
    with CaptureQueriesContext(connection) as captured:
        assert run(data, f"q{count}.csv", admin_user).written
    return len(captured)


def test_consent_is_written_in_bulk_without_a_query_per_row(admin_user):
    assert _import_queries(admin_user, 3) == _import_queries(admin_user, 30)
    # Existing cards: e-mail and phone offers given (SMS "no" is the default); new cards: e-mail offers.
    assert ContactConsent.objects.count() == 2 * (3 + 30) + (3 + 30)


# --- Export --------------------------------------------------------------------------------------------
@pytest.fixture
def chosen(db):
    """A card in English with e-mail offers, SMS blocked: "do not contact" on some channels only."""
    customer = CustomerFactory(customer_no="EX1", name="Alice Wong", language="en")
    consent.change(customer, "email", by=None, source=gate.FORM, how="signed form", marketing=True)
    consent.change(customer, "sms", by=None, source=gate.FORM, do_not_contact=True)
    return customer


def _cells(rows: list[list]) -> dict:
    header = exports.headers(machine=True)
    return dict(zip(header, rows[1], strict=True))


def test_the_export_has_the_language_and_consent_in_the_exporters_language(chosen):
    sheet, rows = read_xlsx(xlsx_of(Customer.objects.all()))
    cells = _cells(rows)
    assert rows[0][21:26] == [
        "Language for messages",
        "E-mail: surveys and offers",
        "SMS: surveys and offers",
        "Phone: surveys and offers",
        "Do not contact",
    ]
    assert [cells[n] for n in exports.headers(machine=True)[21:26]] == ["English", "Yes", "No", "No", None]

    with translation.override("zh-hans"):
        rows = read_csv(csv_of(Customer.objects.all()))
    assert rows[0][21:26] == ["消息语言", "电子邮件：调查和优惠", "短信：调查和优惠", "电话：调查和优惠", "请勿联系"]
    assert rows[1][21:26] == ["English", "是", "否", "否", ""]  # a language is named in its own words
    assert exports.headers(machine=True)[21:26] == [
        "language",
        "email_marketing",
        "sms_marketing",
        "phone_marketing",
        "do_not_contact",
    ]


def test_do_not_contact_exports_yes_only_when_every_channel_is_blocked(chosen):
    for channel in ("email", "phone"):
        consent.change(chosen, channel, by=None, source=gate.FORM, do_not_contact=True)

    assert _cells(read_xlsx(xlsx_of(Customer.objects.all()))[1])["do_not_contact"] == "Yes"


def test_an_erased_card_exports_no_consent(chosen):
    Customer.objects.filter(pk=chosen.pk).update(status=Customer.Status.ERASED)

    cells = _cells(read_xlsx(xlsx_of(Customer.objects.all()))[1])

    assert [cells[n] for n in ("language", "email_marketing", "do_not_contact")] == [None, None, None]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_export_imports_again_unchanged_and_an_edited_cell_changes_the_consent(chosen, admin_user, fmt, language):
    with translation.override(language):
        data = (xlsx_of if fmt == "xlsx" else csv_of)(Customer.objects.all())
    report = run(data, f"export.{fmt}", admin_user, commit=False)
    assert report.ok and (report.created, report.updated, report.unchanged) == (0, 0, 1), problems(report)

    if fmt == "csv":
        rows = read_csv(data)
        rows[1][24] = "是" if language == "zh-hans" else "Yes"  # phone: surveys and offers
        text = io.StringIO(newline="")
        __import__("csv").writer(text).writerows(rows)
        edited = run(text.getvalue().encode("utf-8-sig"), "edited.csv", admin_user)
        assert edited.written and edited.updated == 1, problems(edited)
        assert allowed(chosen) == {"email": (True, False), "sms": (False, True), "phone": (True, False)}
