"""Export headers in the exporter's language, or machine names for integrations; a Chinese export imports again."""

import io

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from analytics import exports as closure_exports
from crm.models import Job
from customers import exports, imports
from customers.columns import COLUMN_NAMES
from customers.models import Customer
from tests.factories import ClosureFactory, CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("customers:export")
CLOSURES_EXPORT = reverse("analytics:export")
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def header_row(data: bytes) -> list:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [cell.value for cell in next(sheet.iter_rows())]


def closures_header_row(data: bytes) -> list:
    book = load_workbook(io.BytesIO(data))
    return [cell.value for cell in next(book[closure_exports.CLOSURES_SHEET].iter_rows())]


def test_a_chinese_customer_export_has_chinese_headers(admin_client):
    CustomerFactory(customer_no="H1")

    response = admin_client.get(f"{EXPORT}?format=xlsx", **CHINESE)

    headers = header_row(b"".join(response.streaming_content))
    assert headers[:4] == ["客户编号", "姓名", "性别", "出生日期"]
    assert "customer_no" not in headers and "储值余额" in headers


def test_an_english_customer_export_has_english_headers(admin_client):
    CustomerFactory(customer_no="H1")

    response = admin_client.get(f"{EXPORT}?format=xlsx", HTTP_ACCEPT_LANGUAGE="en")

    assert header_row(b"".join(response.streaming_content))[:3] == ["Customer number", "Name", "Gender"]


def test_machine_column_names_give_customer_no_whatever_the_language(admin_client):
    CustomerFactory(customer_no="H1")

    response = admin_client.get(f"{EXPORT}?format=xlsx&machine_names=1", **CHINESE)

    assert header_row(b"".join(response.streaming_content)) == exports.headers(machine=True)
    assert exports.headers(machine=True)[:3] == ["customer_no", "name", "gender"]


def test_the_machine_names_checkbox_is_not_kept_as_a_search_filter(admin_client):
    response = admin_client.get(f"{EXPORT}?format=csv&machine_names=1&city=上海")
    assert response.status_code == 200
    from crm.models import AuditEntry

    assert AuditEntry.objects.get(action="customer.export").changes["filters"] == [None, {"city": ["上海"]}]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_chinese_export_can_be_imported_again_unchanged(fmt, admin_user):
    customer = CustomerFactory(customer_no="R1", name="张伟", gender="m", segment="key", stage="repeat")
    customer.tags.add(TagFactory(name="老客户"))
    out = io.BytesIO()
    with translation.override("zh-hans"):
        exports.WRITERS[fmt](Customer.objects.all(), out)
        assert exports.headers()[0] == "客户编号"

    report = imports.import_customers(io.BytesIO(out.getvalue()), f"export.{fmt}", user=admin_user, commit=False)

    assert report.ok, (report.file_errors, [str(p) for p in report.problems])
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    with translation.override("zh-hans"):
        assert report.ignored_columns == exports.headers()[len(COLUMN_NAMES) :]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_header_label_reads_back_as_its_own_column(language):
    from customers.columns import EXPORT_ONLY_COLUMNS, HEADER_LABELS, normalise_key
    from customers.imports.cleaning import _header_aliases

    aliases = _header_aliases()
    with translation.override(language):
        read_as = {name: aliases.get(normalise_key(str(label))) for name, label in HEADER_LABELS.items()}
    assert read_as == {name: f"-{name}" if name in EXPORT_ONLY_COLUMNS else name for name in HEADER_LABELS}


def test_a_job_keeps_the_language_and_the_machine_names_choice(admin_client, admin_user, settings, monkeypatch):
    from crm import jobs

    settings.CUSTOMER_EXPORT_DIRECT_MAX_ROWS = 1
    monkeypatch.setitem(
        jobs._KINDS, "customers_xlsx", jobs.JobKind(exports.run_export_job, "customers.export_customers")
    )
    for i in range(3):
        CustomerFactory(customer_no=f"J{i}")

    admin_client.get(f"{EXPORT}?format=xlsx&machine_names=1", **CHINESE)

    job = Job.objects.get()
    assert (job.params["language"], job.params["machine_names"]) == ("zh-hans", True)
    exports.run_export_job(job, lambda done, total=None: None)
    assert header_row(job.file.read())[0] == "customer_no"


def test_a_chinese_closure_export_has_chinese_headers_and_machine_names_on_request(admin_client):
    ClosureFactory()

    chinese = admin_client.post(f"{CLOSURES_EXPORT}?period=all", {"format": "xlsx"}, **CHINESE)
    machine = admin_client.post(f"{CLOSURES_EXPORT}?period=all", {"format": "xlsx", "machine_names": "1"}, **CHINESE)

    assert closures_header_row(b"".join(chinese.streaming_content))[:2] == ["客户编号", "姓名"]
    assert closures_header_row(b"".join(machine.streaming_content)) == closure_exports.headers(machine=True)
    assert closure_exports.headers(machine=True)[:2] == ["customer_no", "name"]
