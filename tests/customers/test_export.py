"""Exports of the customer search: cells read back with openpyxl and csv, counts, safety, audit."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.models import AuditEntry, Job
from customers import exports, imports
from customers.columns import COLUMN_NAMES
from customers.filters import filtered_customers
from customers.models import Customer
from tests.factories import CustomerFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("customers:export")


def read_xlsx(data: bytes):
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return sheet, [[cell.value for cell in r] for r in sheet.iter_rows()]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte-order mark for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_of(queryset) -> bytes:
    out = io.BytesIO()
    exports.write_xlsx(queryset, out)
    return out.getvalue()


def csv_of(queryset) -> bytes:
    out = io.BytesIO()
    exports.write_csv(queryset, out)
    return out.getvalue()


def by_number(rows: list[list]) -> dict:
    """Each data row by its customer number, its cells by machine name (the headers are in the exporter's words)."""
    assert rows[0] == exports.headers()
    header = exports.headers(machine=True)
    return {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}


@pytest.fixture
def zhang(db):
    owner = UserFactory(username="li.na")
    customer = CustomerFactory(
        customer_no="C000001",
        name="张伟",
        gender="m",
        birth_date=dt.date(1985, 3, 21),
        phone="+8613812345678",
        email="zhang.wei@example.cn",
        city="上海",
        segment=Customer.Segment.KEY,
        owner=owner,
        balance=Decimal("1200.50"),
        points=350,
        created_at=timezone.make_aware(dt.datetime(2025, 1, 2, 9, 30)),
    )
    customer.tags.set([TagFactory(name="老客户"), TagFactory(name="VIP")])
    return customer


def test_the_workbook_has_a_bold_frozen_filtered_header_and_real_types(zhang):
    sheet, rows = read_xlsx(xlsx_of(Customer.objects.all()))

    assert rows[0] == exports.headers()
    assert sheet["A1"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:AG2"
    assert sheet.column_dimensions["L"].width == 32
    cells = by_number(rows)["C000001"]
    assert cells["name"] == "张伟"
    assert cells["gender"] == "Male"
    assert cells["birth_date"] == dt.datetime(1985, 3, 21)
    assert sheet["D2"].number_format == "yyyy-mm-dd"
    assert cells["phone"] == "+8613812345678"
    assert cells["email"] == "zhang.wei@example.cn"
    assert cells["segment"] == "Key account"
    assert cells["owner"] == "li.na"
    assert cells["tags"] == "VIP, 老客户"
    assert cells["balance"] == 1200.5
    assert sheet["R2"].number_format == "#,##0.00"
    assert cells["points"] == 350
    assert cells["status"] == "Active"
    # Stored in UTC, shown in the configured time zone (Asia/Shanghai).
    assert cells["created_at"] == dt.datetime(2025, 1, 2, 9, 30)


def test_a_csv_is_utf8_with_a_bom_and_keeps_chinese(zhang):
    rows = read_csv(csv_of(Customer.objects.all()))

    assert rows[0] == exports.headers()
    cells = by_number(rows)["C000001"]
    assert (cells["name"], cells["city"], cells["tags"]) == ("张伟", "上海", "VIP, 老客户")
    assert cells["birth_date"] == "1985-03-21"
    assert cells["balance"] == "1200.50"
    assert cells["created_at"] == "2025-01-02 09:30:00"


def test_formula_text_stays_text_in_both_formats():
    CustomerFactory(customer_no="F1", name='=HYPERLINK("http://evil.example")', preferences="@SUM(1+1)")

    sheet, rows = read_xlsx(xlsx_of(Customer.objects.all()))
    assert rows[1][1] == '=HYPERLINK("http://evil.example")'
    assert sheet["B2"].data_type == "s"
    cells = by_number(read_csv(csv_of(Customer.objects.all())))["F1"]
    assert cells["name"] == '\'=HYPERLINK("http://evil.example")'
    assert cells["preferences"] == "'@SUM(1+1)"


def test_an_erased_customer_appears_without_personal_data():
    CustomerFactory(customer_no="E1", name="李雷", phone="+8613900000001", email="li@example.cn", status="erased")

    cells = by_number(read_xlsx(xlsx_of(Customer.objects.all()))[1])["E1"]

    assert cells["status"] == "Erased"
    assert cells["created_at"] is not None
    kept = ("customer_no", "customer_since", "source", "status", "created_at", "updated_at")
    personal = {k: v for k, v in cells.items() if k not in kept}
    assert set(personal.values()) == {None}
    assert "李雷" not in csv_of(Customer.objects.all()).decode("utf-8-sig")


def test_the_row_count_equals_the_queryset_and_the_order_is_kept():
    for i in range(7):
        CustomerFactory(customer_no=f"R{i}", city="北京" if i % 2 else "上海")
    queryset = Customer.objects.filter(city="北京").order_by("-customer_no")

    rows = read_xlsx(xlsx_of(queryset))[1]

    assert [r[0] for r in rows[1:]] == ["R5", "R3", "R1"]
    assert len(read_csv(csv_of(queryset))) - 1 == queryset.count()


def test_the_export_runs_a_fixed_number_of_queries_per_chunk_of_rows(monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    tag = TagFactory(name="VIP")
    for i in range(25):
        CustomerFactory(customer_no=f"Q{i:02d}", owner=UserFactory(username=f"owner{i}")).tags.add(tag)

    with CaptureQueriesContext(connection) as queries:
        rows = read_csv(csv_of(Customer.objects.order_by("customer_no")))

    assert len(rows) == 26
    assert rows[25][15] == "VIP"
    # One query for the customers (owners joined in), two per chunk of 10: their tags, their consent.
    assert len(queries) <= 1 + 3 * 2 + 2  # +2: a server-side cursor's DECLARE/CLOSE on PostgreSQL


def test_an_export_can_be_imported_again_unchanged(zhang, admin_user):
    data = xlsx_of(Customer.objects.all())

    report = imports.import_customers(io.BytesIO(data), "export.xlsx", user=admin_user, commit=False)

    assert report.ok, (report.file_errors, [str(p) for p in report.problems])
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert report.ignored_columns == list(exports.headers()[len(COLUMN_NAMES) :])


def test_a_csv_export_can_be_imported_again_unchanged(admin_user):
    CustomerFactory(customer_no="X1", name="=1+2", phone="+447911123456")
    data = csv_of(Customer.objects.all())

    report = imports.import_customers(io.BytesIO(data), "export.csv", user=admin_user, commit=False)

    assert (report.ok, report.unchanged) == (True, 1), [str(p) for p in report.problems]


# --- The view -----------------------------------------------------------------------------------
def test_admin_exports_exactly_the_current_search(admin_client, admin_user):
    CustomerFactory(customer_no="S1", name="张伟", city="上海")
    CustomerFactory(customer_no="S2", name="张伟明", city="北京")
    CustomerFactory(customer_no="S3", name="李娜", city="上海")
    CustomerFactory(customer_no="S4", name="张三", status=Customer.Status.CLOSED)
    query = "q=张&format=xlsx&page=3"

    response = admin_client.get(f"{EXPORT}?{query}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="customers-' in response["Content-Disposition"]
    rows = read_xlsx(b"".join(response.streaming_content))[1]
    _fs, expected = filtered_customers(response.wsgi_request.GET, admin_user)
    assert [r[0] for r in rows[1:]] == list(expected.values_list("customer_no", flat=True))
    assert sorted(r[0] for r in rows[1:]) == ["S1", "S2"]


def test_a_csv_export_of_closed_customers(admin_client):
    CustomerFactory(customer_no="S1")
    CustomerFactory(customer_no="S4", status=Customer.Status.CLOSED)

    response = admin_client.get(f"{EXPORT}?status=closed&format=csv")

    rows = read_csv(b"".join(response.streaming_content))
    assert [r[0] for r in rows[1:]] == ["S4"]
    assert rows[1][exports.headers(machine=True).index("status")] == "Closed"


def test_the_export_is_audited_with_its_filters_and_row_count(admin_client, admin_user):
    CustomerFactory(customer_no="S1", city="上海")

    admin_client.get(f"{EXPORT}?city=上海&format=csv")

    entry = AuditEntry.objects.get(action="customer.export")
    assert entry.actor == admin_user
    assert entry.changes["rows"] == [None, 1]
    assert entry.changes["filters"] == [None, {"city": ["上海"]}]
    assert entry.changes["format"] == [None, "csv"]


def test_an_unknown_format_is_a_bad_request(admin_client):
    assert admin_client.get(f"{EXPORT}?format=pdf").status_code == 400
    assert not AuditEntry.objects.filter(action="customer.export").exists()


@pytest.mark.parametrize("client_name", ["staff_client", "manager_client"])
def test_only_admins_may_export(request, client_name):
    CustomerFactory()
    assert request.getfixturevalue(client_name).get(f"{EXPORT}?format=csv").status_code == 403
    assert not AuditEntry.objects.filter(action="customer.export").exists()


def test_a_large_export_runs_as_a_job_when_jobs_are_registered(admin_client, admin_user, settings, monkeypatch):
    from crm import jobs

    settings.CUSTOMER_EXPORT_DIRECT_MAX_ROWS = 2
    monkeypatch.setitem(
        jobs._KINDS, "customers_csv", jobs.JobKind(exports.run_export_job, "customers.export_customers")
    )
    for i in range(3):
        CustomerFactory(customer_no=f"J{i}", city="杭州")

    response = admin_client.get(f"{EXPORT}?format=csv&city=杭州")

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:status", kwargs={"pk": job.pk})
    assert job.params["filters"] == {"city": ["杭州"]}


def test_the_export_job_writes_the_file_and_audits_it(admin_user):
    for i in range(3):
        CustomerFactory(customer_no=f"J{i}", city="杭州")
    CustomerFactory(customer_no="OTHER", city="上海")
    job = Job.objects.create(
        kind=Job.Kind.CUSTOMERS_XLSX,
        created_by=admin_user,
        params={"filters": {"city": ["杭州"]}, "language": "zh-hans"},
    )
    seen = []

    result = exports.run_export_job(job, lambda done, total=None: seen.append((done, total)))

    assert result["rows"] == 3
    assert seen[-1] == (3, 3)
    rows = read_xlsx(job.file.read())[1]
    assert sorted(r[0] for r in rows[1:]) == ["J0", "J1", "J2"]
    entry = AuditEntry.objects.get(action="customer.export")
    assert (entry.actor, entry.object_type, entry.changes["rows"]) == (admin_user, "job", [None, 3])


def test_the_export_buttons_carry_the_current_search_for_admins_only(rf, admin_user, staff_user):
    from django.template.loader import render_to_string

    request = rf.get("/?q=张&city=上海&page=2")
    request.user = admin_user
    html = render_to_string("customers/_export_buttons.html", {"perms": _perms(admin_user)}, request=request)

    assert "Export to Excel" in html and "Export CSV" in html
    assert '<input type="hidden" name="q" value="张">' in html
    assert '<input type="hidden" name="city" value="上海">' in html
    assert 'name="format" value="xlsx"' in html and 'name="machine_names"' in html
    assert 'name="page"' not in html
    request.user = staff_user
    assert "Export" not in render_to_string(
        "customers/_export_buttons.html", {"perms": _perms(staff_user)}, request=request
    )


def _perms(user):
    from django.contrib.auth.context_processors import PermWrapper

    return PermWrapper(user)
