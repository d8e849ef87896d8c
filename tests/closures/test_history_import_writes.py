"""Importing historical closures, the writes: each row recorded as if it had been done at the time,
audited as imported, all or nothing; the pages that show closures name an imported performer."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from analytics import figures
from analytics.filters import ClosureFilter
from analytics.rows import closure_rows
from closures import operations
from closures.imports import COLUMNS
from closures.models import Closure, ClosureReason, ClosureStaffTally, ClosureTally
from closures.rules import ClosureChoice
from crm.models import AuditEntry, Event
from customers.models import Customer, ImportBatch
from tests.factories import CustomerFactory, UserFactory

from .history_files import csv_bytes, problems, run
from .test_tally import assert_tallies_match_a_recount

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
IMPORT = reverse("closures:import")
CONFIRM = reverse("closures:import_confirm")


@pytest.fixture(autouse=True)
def shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def cards(db):
    return {
        "H1": CustomerFactory(customer_no="H1", customer_since=dt.date(2018, 1, 1), segment="regular"),
        "H2": CustomerFactory(customer_no="H2", customer_since=dt.date(2020, 6, 15), segment="key"),
        "H3": CustomerFactory(customer_no="H3", customer_since=dt.date(2022, 1, 1), segment="potential"),
        "H4": CustomerFactory(customer_no="H4", customer_since=dt.date(2019, 1, 1)),  # not in the file
    }


GOOD = csv_bytes(
    ["H1", "close", "price", "2021-03-05", "", "li01"],
    ["H2", "void", "wrong-information", "2021-03-20 14:30", "typo in the old system", "Mei Lin"],
    ["H3", "归档", "long-inactive", "2022-07-01", "", "Old Clerk"],
)


@pytest.fixture
def clerks(db):
    return {
        "li01": UserFactory(username="li01", first_name="Li", last_name="Wei", role="Staff"),
        "mei": UserFactory(username="meilin", first_name="Mei", last_name="Lin", role="Staff"),
    }


def test_a_good_file_records_each_closure_at_its_historical_moment(cards, clerks, admin_user):
    report = run(admin_user, GOOD, commit=True)

    assert report.written, problems(report)
    assert report.by_action == {"close": 1, "void": 1, "archive": 1}
    got = {c.customer.customer_no: c for c in Closure.objects.select_related("customer", "reason")}
    assert got["H1"].performed_at == dt.datetime(2021, 3, 5, tzinfo=SHANGHAI)  # a date alone: local midnight
    assert got["H2"].performed_at == dt.datetime(2021, 3, 20, 14, 30, tzinfo=SHANGHAI)
    assert got["H3"].performed_at == dt.datetime(2022, 7, 1, tzinfo=SHANGHAI)
    assert {n: (c.action, c.reason.code) for n, c in got.items()} == {
        "H1": ("close", "price"),
        "H2": ("void", "wrong-information"),
        "H3": ("archive", "long-inactive"),
    }
    assert got["H2"].notes == "typo in the old system"
    # records of the past, not closures that just happened: no event, so no notice or survey is planned
    assert not Event.objects.exists()
    # tenure from "customer since" to the day it happened, as the card's page would have counted it
    assert got["H1"].tenure_days == (dt.date(2021, 3, 5) - dt.date(2018, 1, 1)).days
    assert got["H2"].tenure_days == (dt.date(2021, 3, 20) - dt.date(2020, 6, 15)).days
    assert got["H3"].tenure_days == 181
    assert got["H1"].customer_since == dt.date(2018, 1, 1)
    assert {c.segment for c in got.values()} == {"regular", "key", "potential"}
    statuses = dict(Customer.objects.values_list("customer_no", "status"))
    assert statuses == {"H1": "closed", "H2": "void", "H3": "archived", "H4": "active"}


def test_the_performer_is_a_user_when_the_file_names_one_and_a_name_otherwise(cards, clerks, admin_user):
    run(admin_user, GOOD, commit=True)

    performers = {
        c.customer.customer_no: (c.performed_by.username, c.performed_by_name)
        for c in Closure.objects.select_related("customer", "performed_by")
    }
    assert performers == {"H1": ("li01", ""), "H2": ("meilin", ""), "H3": ("admin_zhao", "Old Clerk")}


def test_the_import_is_recorded_as_a_batch_and_every_closure_points_to_it(cards, clerks, admin_user):
    report = run(admin_user, GOOD, commit=True)

    batch = ImportBatch.objects.get()
    assert batch.pk == report.batch_id
    assert (batch.kind, batch.file_name, batch.created_by, batch.rows, batch.closed_count) == (
        "closures",
        "history.csv",
        admin_user,
        3,
        3,
    )
    assert set(Closure.objects.values_list("import_batch", flat=True)) == {batch.pk}


def test_each_card_gets_an_audit_entry_naming_the_file_the_line_and_the_importer(cards, clerks, admin_user):
    run(admin_user, GOOD, commit=True)

    entries = {e.customer_id: e for e in AuditEntry.objects.filter(action__startswith="closure.")}
    h1, h3 = entries[cards["H1"].pk], entries[cards["H3"].pk]
    assert (h1.action, h1.actor, h1.object_type) == ("closure.close", admin_user, "closure")
    assert h1.changes == {"status": ["active", "closed"]}
    assert h1.data["source"] == {"kind": "import", "file": "history.csv", "line": 2}
    assert h1.data["performed_by"] == "Li Wei"
    assert h1.data["performed_at"] == "2021-03-05T00:00:00+08:00"
    assert h3.data["source"]["line"] == 4 and h3.data["performed_by"] == "Old Clerk"
    assert len(entries) == 3
    batch = AuditEntry.objects.get(action="closures.import")
    assert batch.changes == {"file": [None, "history.csv"], "rows": [None, 3], "closed": [None, 3]}


def test_the_card_history_reads_the_imported_entry(cards, clerks, admin_user, admin_client):
    run(admin_user, GOOD, commit=True)

    page = admin_client.get(reverse("customers:card", args=[cards["H3"].pk])).content.decode()

    assert "Imported from history.csv, line 4" in page
    assert "Happened on 2022-07-01 00:00 (imported history)" in page
    assert "Old Clerk (imported)" in page  # the closure panel's "By"


def test_the_tallies_equal_a_recount_after_an_import(cards, clerks, admin_user):
    run(admin_user, GOOD, commit=True)

    assert ClosureTally.objects.exists() and ClosureStaffTally.objects.exists()
    assert_tallies_match_a_recount()


def test_the_dashboard_shows_the_closures_in_their_historical_months(cards, clerks, admin_user):
    run(admin_user, GOOD, commit=True)

    fs = ClosureFilter({"period": "custom", "start": "2021-01-01", "end": "2022-12-31"})
    assert fs.is_valid(), fs.errors
    got = figures.compute(fs)

    by_month = {m.first: m.total for m in got.months if m.total}
    assert by_month == {dt.date(2021, 3, 1): 2, dt.date(2022, 7, 1): 1}
    assert got.total == 3
    # tenure at closure: 1,159 days for H1, 278 for H2, 181 for H3
    assert {s.key: s.count for s in got.by_tenure if s.count} == {"gt3y": 1, "3to12m": 2}
    assert not figures.compute(ClosureFilter({"period": "custom", "start": "2023-01-01", "end": "2023-12-31"})).total


def test_one_bad_row_writes_nothing(cards, clerks, admin_user):
    data = csv_bytes(
        ["H1", "close", "price", "2021-03-05"],
        ["H2", "close", "price", "2021-03-05"],
        ["H3", "close", "price", "2019-01-01"],  # before H3's customer since
        header=["customer_no", "action", "reason", "closed_at"],
    )

    report = run(admin_user, data, commit=True)

    assert not report.written and report.batch_id is None
    assert problems(report)[0][:2] == (4, "closed_at")
    assert not Closure.objects.exists()
    assert set(Customer.objects.values_list("status", flat=True)) == {"active"}
    assert not ImportBatch.objects.exists() and not AuditEntry.objects.filter(action__startswith="closure").exists()
    assert not ClosureTally.objects.exclude(n=0).exists()


# --- the pages ---------------------------------------------------------------------------------------


def test_upload_previews_then_confirm_imports_everything(cards, clerks, admin_client):
    preview = admin_client.post(IMPORT, {"file": SimpleUploadedFile("history.csv", GOOD)})

    assert preview.status_code == 200
    assert "Confirm import" in preview.content.decode()
    assert not Closure.objects.exists()
    done = admin_client.post(CONFIRM, {"upload": preview.context["upload"].upload_id}, follow=True)

    assert done.redirect_chain == [(IMPORT, 302)]
    assert "Imported history.csv: 3 historical closures." in done.content.decode()
    assert Closure.objects.count() == 3


def test_a_preview_lists_the_problems_and_offers_no_confirmation(cards, admin_client):
    data = csv_bytes(["H1", "close", "price", "someday"], ["H9", "close", "price", "2021-03-05"])
    page = admin_client.post(IMPORT, {"file": SimpleUploadedFile("history.csv", data)}).content.decode()

    assert "“someday” is not a date" in page
    assert "No customer has the number H9." in page
    assert "Confirm import" not in page


def test_a_card_closed_between_preview_and_confirm_stops_the_whole_import(cards, clerks, admin_client, staff_user):
    preview = admin_client.post(IMPORT, {"file": SimpleUploadedFile("history.csv", GOOD)})
    operations.close_customer(
        cards["H2"], ClosureChoice("close", ClosureReason.objects.get(code="price")), by=staff_user
    )

    page = admin_client.post(CONFIRM, {"upload": preview.context["upload"].upload_id})

    assert "Nothing was imported" in page.content.decode()
    assert "already closed by Li Na" in page.content.decode()
    assert Closure.objects.count() == 1  # the one closed on its card
    assert dict(Customer.objects.values_list("customer_no", "status"))["H1"] == "active"


def test_a_file_over_the_size_limit_is_refused_with_the_limit(admin_client, settings):
    settings.IMPORT_DIRECT_MAX_BYTES = 1024
    data = csv_bytes(*[["H1", "close", "price", "2021-03-05", "x" * 100]] * 20)

    page = admin_client.post(IMPORT, {"file": SimpleUploadedFile("history.csv", data)}).content.decode()

    assert "The file is larger than 1 KB; split the history into several files of up to 10,000 rows." in page


def test_the_templates_have_every_column_and_the_example_row_is_refused(cards, admin_user, admin_client):
    names = [column.name for column in COLUMNS]
    csv_file = admin_client.get(reverse("closures:import_template", args=["csv"]))
    xlsx_file = admin_client.get(reverse("closures:import_template", args=["xlsx"]))

    assert csv_file.content.decode("utf-8-sig").splitlines()[0].split(",") == names
    sheet, help_sheet = load_workbook(io.BytesIO(xlsx_file.content)).worksheets
    assert [c.value for c in sheet[1]] == names
    assert [r[0].value for r in help_sheet.iter_rows(min_row=2, max_row=len(names) + 1)] == names
    report = run(admin_user, csv_file.content)
    assert problems(report) == [(2, "customer_no", "This is the template's example row; delete it before importing.")]


def test_chinese_headers_and_values_import(cards, admin_user):
    header = ["客户编号", "操作", "原因", "销卡日期", "备注", "经办人"]
    data = csv_bytes(["H2", "作废", "信息有误", "2021年3月5日", "旧系统录入错误", "王五"], header=header)

    report = run(admin_user, data.decode().encode("gb18030"), commit=True)

    assert report.written, problems(report)
    closure = Closure.objects.get()
    assert (closure.action, closure.reason.code, closure.notes) == ("void", "wrong-information", "旧系统录入错误")
    assert closure.performed_at == dt.datetime(2021, 3, 5, tzinfo=SHANGHAI)
    assert closure.performed_by_name == "王五"


def test_the_closure_list_names_an_imported_performer(cards, admin_user, admin_client):
    run(admin_user, GOOD, commit=True)

    page = admin_client.get(reverse("analytics:closure_list"), {"period": "all"}).content.decode()
    row = closure_rows(
        [Closure.objects.select_related("customer", "reason", "performed_by").get(customer__customer_no="H3")]
    )

    assert '<td data-label="By">Old Clerk (imported)</td>' in str(row)
    assert "Old Clerk (imported)" in page


def test_the_menu_links_the_import_for_admins_only(admin_client, manager_client):
    assert IMPORT in admin_client.get(reverse("customers:search")).content.decode()
    assert IMPORT not in manager_client.get(reverse("customers:search")).content.decode()


def test_a_file_with_problems_comes_back_with_every_problem_cell_marked(cards, admin_client):
    import io as _io

    from openpyxl import load_workbook

    data = csv_bytes(["H1", "shut", "price", "2021-03-05", "", ""], ["NOPE", "close", "price", "someday", "", ""])
    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("past.csv", data)})

    assert response.context["upload"] is None
    marked = admin_client.get(response.context["marked_url"])
    workbook = load_workbook(_io.BytesIO(b"".join(marked.streaming_content)))
    sheet = workbook["past"]
    assert sheet["B2"].value == "shut" and "is not an action" in sheet["B2"].comment.text
    assert sheet["A2"].comment is None
    assert sheet["A3"].comment is not None and sheet["D3"].comment is not None  # the unknown card and the date
    listed = {(r[0].value, r[1].value) for r in workbook["Problems"].iter_rows(min_row=2)}
    assert listed == {(2, "action"), (3, "customer_no"), (3, "closed_at")}
