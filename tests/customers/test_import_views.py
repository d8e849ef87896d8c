"""The import pages: template download, upload and preview, confirmation by the uploader only."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from crm.models import AuditEntry
from customers import imports
from customers.columns import COLUMN_NAMES
from customers.models import Customer
from tests.factories import UserFactory
from tests.fixtures.customer_files import csv_bytes, good_rows, row, xlsx_bytes

pytestmark = pytest.mark.django_db

IMPORT = reverse("customers:import")
CONFIRM = reverse("customers:import_confirm")


def upload(client, data: bytes, name: str):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data)})


def upload_id(response) -> str:
    return response.context["upload"].upload_id


def test_the_excel_template_opens_with_the_headers_an_example_and_explanations(admin_client):
    response = admin_client.get(reverse("customers:import_template", kwargs={"fmt": "xlsx"}))

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    customers, columns = workbook.worksheets
    assert [c.value for c in customers[1]] == list(COLUMN_NAMES)
    assert customers["A2"].value == "EXAMPLE-0001"
    assert customers["B2"].value == "张伟"
    assert customers.freeze_panes == "A2"
    assert [c.value for c in columns["A"][1 : len(COLUMN_NAMES) + 2]] == [*COLUMN_NAMES, "tenure_months"]
    explanations = {r[0].value: (r[3].value, r[4].value) for r in columns.iter_rows(min_row=2) if r[0].value}
    assert explanations["phone"][0].startswith("Mobile phone: 11 digits for China")
    assert explanations["phone"][1].startswith("手机号")
    assert explanations["tenure_months"][0].startswith("Instead of customer_since")
    assert explanations["customer_since"][1].startswith("客户起始日期")


def test_the_csv_template_is_utf8_with_a_bom_and_has_the_headers(admin_client):
    response = admin_client.get(reverse("customers:import_template", kwargs={"fmt": "csv"}))

    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    header, example = response.content.decode("utf-8-sig").splitlines()
    assert header.split(",") == list(COLUMN_NAMES)
    assert "张伟" in example


def test_an_unknown_template_format_is_not_found(admin_client):
    assert admin_client.get(reverse("customers:import_template", kwargs={"fmt": "xls"})).status_code == 404


def test_the_import_page_offers_the_upload_form_and_templates(admin_client):
    response = admin_client.get(IMPORT)

    assert response.status_code == 200
    assert "Import customers" in response.content.decode()
    assert reverse("customers:import_template", kwargs={"fmt": "xlsx"}) in response.content.decode()


def test_upload_shows_a_preview_and_writes_nothing_until_confirmed(admin_client, admin_user):
    response = upload(admin_client, xlsx_bytes(good_rows(3)), "customers.xlsx")

    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.updated, report.ok) == (3, 0, True)
    assert "Confirm import" in response.content.decode()
    assert Customer.objects.count() == 0

    confirmed = admin_client.post(CONFIRM, {"upload": upload_id(response)})

    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("customers:search")
    assert Customer.objects.count() == 3
    entry = AuditEntry.objects.get(action="customer.import")
    assert (entry.actor, entry.changes["created"]) == (admin_user, [None, 3])


def test_a_csv_upload_in_gb18030_is_previewed_and_confirmed(admin_client):
    response = upload(admin_client, csv_bytes(good_rows(2), encoding="gb18030"), "客户.csv")
    admin_client.post(CONFIRM, {"upload": upload_id(response)})

    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张伟1", "张伟2"]


def test_a_bad_file_lists_its_problems_and_offers_no_confirmation(admin_client):
    rows = good_rows(3)
    rows[1]["phone"] = "1390000000"
    response = upload(admin_client, xlsx_bytes(rows), "bad.xlsx")

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["upload"] is None
    assert "Confirm import" not in page
    assert "This mobile number has 10 digits; Chinese mobiles have 11." in page
    assert '<td class="num" data-label="Line">3</td><td data-label="Column">phone</td>' in page
    assert Customer.objects.count() == 0


def test_an_unreadable_file_is_reported_next_to_the_file_field(admin_client):
    response = upload(admin_client, b"not a workbook at all", "customers.xlsx")

    assert response.status_code == 200
    assert response.context["form"].errors["file"][0].startswith("The file is not an Excel workbook")
    assert 'id="id_file_error"' in response.content.decode()


def test_a_file_is_required(admin_client):
    response = admin_client.post(IMPORT, {})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["Choose a file to upload."]


def test_names_with_html_are_escaped_in_the_preview(admin_client):
    response = upload(admin_client, xlsx_bytes([row(1, name="<script>alert(1)</script>", phone="12")]), "x.xlsx")

    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "12" in page


def test_another_admin_cannot_confirm_someone_elses_upload(admin_client):
    response = upload(admin_client, xlsx_bytes(good_rows(2)), "customers.xlsx")
    other = Client()
    other.force_login(UserFactory(username="admin_two", role="Admin"))

    refused = other.post(CONFIRM, {"upload": upload_id(response)}, follow=True)

    assert refused.redirect_chain == [(IMPORT, 302)]
    assert "This upload was not found or has expired" in refused.content.decode()
    assert Customer.objects.count() == 0
    # The uploader still can.
    admin_client.post(CONFIRM, {"upload": upload_id(response)})
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("value", ["", "not-a-uuid", "../../etc/passwd", "0" * 32])
def test_a_confirmation_without_a_valid_upload_is_refused(admin_client, value):
    response = admin_client.post(CONFIRM, {"upload": value})

    assert response.status_code == 302
    assert response["Location"] == IMPORT
    assert Customer.objects.count() == 0


def test_an_upload_can_be_confirmed_only_once(admin_client):
    response = upload(admin_client, xlsx_bytes(good_rows(2)), "customers.xlsx")
    admin_client.post(CONFIRM, {"upload": upload_id(response)})

    again = admin_client.post(CONFIRM, {"upload": upload_id(response)})

    assert again.status_code == 302
    assert AuditEntry.objects.filter(action="customer.import").count() == 1


def test_the_confirmation_is_post_only(admin_client):
    assert admin_client.get(CONFIRM).status_code == 405


def test_a_confirmation_rechecks_the_data_as_it_is_now(admin_client):
    response = upload(admin_client, xlsx_bytes(good_rows(2)), "customers.xlsx")
    Customer.objects.create(customer_no="IMP0002", name="被删除", status=Customer.Status.ERASED)

    failed = admin_client.post(CONFIRM, {"upload": upload_id(response)})

    assert failed.status_code == 200
    assert "no longer passes the checks" in failed.content.decode()
    assert "The personal data of card IMP0002 was deleted" in failed.content.decode()
    assert list(Customer.objects.values_list("customer_no", flat=True)) == ["IMP0002"]


def test_a_request_over_the_size_limit_is_refused_before_it_is_read(admin_client, settings):
    settings.IMPORT_MAX_BYTES = 1024
    data = csv_bytes(good_rows(1000))
    assert len(data) > 1024 + imports.uploads.MULTIPART_OVERHEAD

    response = upload(admin_client, data, "big.csv")

    assert response.status_code == 413
    assert response.context["form"].errors["file"] == ["The file is larger than 1 KB; split it into smaller files."]
    assert 'id="id_file_error"' in response.content.decode()
    assert Customer.objects.count() == 0


def test_an_upload_just_over_the_limit_is_stopped_while_it_is_read(admin_client, settings):
    settings.IMPORT_MAX_BYTES = 4096
    data = csv_bytes(good_rows(40))
    assert 4096 < len(data) < 4096 + imports.uploads.MULTIPART_OVERHEAD

    response = upload(admin_client, data, "big.csv")

    assert response.status_code == 413
    assert "The file is larger than 4 KB" in response.content.decode()


def test_a_refused_preview_leaves_no_stored_upload(admin_client):
    from django.core.files.storage import default_storage

    def folders() -> set[str]:
        return set(default_storage.listdir("imports")[0]) if default_storage.exists("imports") else set()

    before = folders()
    upload(admin_client, b"junk", "x.xlsx")

    assert folders() == before


def test_a_preview_with_problems_keeps_the_upload_only_for_the_marked_copy(admin_client):
    from django.core.files.storage import default_storage

    def folders() -> set[str]:
        return set(default_storage.listdir("imports")[0]) if default_storage.exists("imports") else set()

    before = folders()
    response = upload(admin_client, xlsx_bytes([row(1, phone="1")]), "y.xlsx")

    (kept,) = folders() - before
    assert sorted(default_storage.listdir(f"imports/{kept}")[1]) == ["meta.json", "problems.json", "upload.xlsx"]
    assert response.context["upload"] is None  # nothing to confirm
    assert response.context["marked_url"].endswith(f"/{kept}/marked.xlsx")


def test_staff_cannot_reach_the_import_pages(staff_client):
    assert staff_client.get(IMPORT).status_code == 403
    assert staff_client.post(IMPORT, {"file": SimpleUploadedFile("a.csv", csv_bytes(good_rows(1)))}).status_code == 403
    assert staff_client.post(CONFIRM, {"upload": "0" * 32}).status_code == 403
    assert Customer.objects.count() == 0
