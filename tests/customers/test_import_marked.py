"""One check finds every problem of a file, and the file comes back with them marked.

Every row is checked in full (every cell, the rules across rows and the checks against the
database, even for a row whose cells already failed); the page lists the first 200 problems; the
download is the uploaded file as .xlsx with each problem cell filled and explained in a comment,
and a Problems sheet listing them all. Only the uploader may download it, while the upload is kept.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from customers.imports.marked import PROBLEM_FILL, WARNING_FILL
from customers.imports.report import MAX_PROBLEMS_SHOWN
from customers.models import Customer
from tests.factories import CustomerFactory, UserFactory
from tests.fixtures.customer_files import HEADER, csv_bytes, row, xlsx_bytes

pytestmark = pytest.mark.django_db

IMPORT = reverse("customers:import")
COLUMN = {name: chr(ord("A") + index) for index, name in enumerate(HEADER)}


def upload(client, data: bytes, name: str, **options):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data), **options})


def download(client, response):
    marked = client.get(response.context["marked_url"])
    assert marked.status_code == 200
    assert marked["Content-Disposition"].startswith("attachment")
    return load_workbook(io.BytesIO(b"".join(marked.streaming_content)))


SEVERAL = [
    row(1),
    row(2, phone="1380000", birth_date="not a date"),  # two bad cells on one row
    row(3, owner="nobody_here", points="-5"),  # a bad cell and an unknown owner (a database check)
    row(4, customer_no="CLOSED1", balance="abc"),  # a bad cell on a closed card's row
    row(5, phone="13900000001"),  # row 1's phone again
]


def _problem_cells(report) -> set[tuple[int, str]]:
    return {(problem.line, problem.column) for problem in report.problems}


def test_one_check_reports_every_problem_of_every_row_and_column(admin_client, staff_user):
    CustomerFactory(customer_no="CLOSED1", status=Customer.Status.CLOSED)

    response = upload(admin_client, csv_bytes(SEVERAL), "several.csv")

    report = response.context["report"]
    assert _problem_cells(report) == {
        (3, "phone"),
        (3, "birth_date"),
        (4, "points"),
        (4, "owner"),
        (5, "balance"),
        (5, "customer_no"),  # closed: found although the row's balance is bad too
        (6, "phone"),
    }
    assert report.problem_count == 7 and report.bad_lines == {3, 4, 5, 6}
    assert report.created == 1  # only row 1 would be written
    assert not Customer.objects.filter(customer_no__startswith="IMP").exists()


def test_the_page_lists_the_first_200_problems_and_the_download_has_them_all(admin_client):
    rows = [row(n, phone="12") for n in range(1, MAX_PROBLEMS_SHOWN + 51)]

    response = upload(admin_client, csv_bytes(rows), "many.csv")

    page = response.content.decode()
    assert page.count('<tr><td class="num" data-label=') == MAX_PROBLEMS_SHOWN
    assert "50 more problems are not listed here; the file with the problems marked has them." in page
    problems = download(admin_client, response)["Problems"]
    assert problems.max_row == 1 + MAX_PROBLEMS_SHOWN + 50


def test_the_marked_copy_fills_and_explains_each_problem_cell(admin_client):
    data = xlsx_bytes([row(1), row(2, phone="1380000", birth_date="not a date"), row(3, points="-5")])

    response = upload(admin_client, data, "mine.xlsx")

    workbook = download(admin_client, response)
    assert workbook.sheetnames == ["mine", "Problems"]
    sheet = workbook["mine"]
    assert [cell.value for cell in sheet[1]] == HEADER  # the file as uploaded: same columns, same rows
    assert sheet.max_row == 4
    assert sheet["B2"].value == "张伟1" and sheet["B2"].comment is None
    phone = sheet[f"{COLUMN['phone']}3"]
    assert phone.value == "1380000"
    assert phone.fill.fgColor.rgb == "00" + PROBLEM_FILL.fgColor.rgb[-6:]
    assert "10 digits" in phone.comment.text or "digits" in phone.comment.text
    assert sheet[f"{COLUMN['birth_date']}3"].comment is not None
    assert sheet[f"{COLUMN['points']}4"].comment is not None
    assert sheet[f"{COLUMN['name']}3"].comment is None  # a good cell of a bad row stays as it was
    listed = [[cell.value for cell in line] for line in workbook["Problems"].iter_rows(min_row=2)]
    assert [(line, column) for line, column, *_rest in listed] == [(3, "birth_date"), (3, "phone"), (4, "points")]
    assert listed[1][2] == "1380000"
    assert listed[1][3] == phone.comment.text


def test_a_csv_upload_comes_back_as_a_workbook_with_a_warning_marked_yellow(admin_client):
    CustomerFactory(customer_no="OTHER1", phone="+8613900000002")
    data = csv_bytes([row(1, points="x"), row(2)])  # row 2's phone is on another card: a warning

    response = upload(admin_client, data, "list.csv")

    sheet = download(admin_client, response)["list"]
    warned = sheet[f"{COLUMN['phone']}3"]
    assert warned.fill.fgColor.rgb[-6:] == WARNING_FILL.fgColor.rgb[-6:]
    assert warned.comment.text.startswith("Warning: ")


def test_the_explanations_are_in_the_uploaders_language(admin_client):
    with translation.override("zh-hans"):
        response = admin_client.post(
            IMPORT,
            {"file": SimpleUploadedFile("中文.csv", csv_bytes([row(1, points="x")]))},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        admin_client.cookies["django_language"] = "zh-hans"
        workbook = download(admin_client, response)
    assert workbook.sheetnames[1] == "问题"
    comment = workbook["中文"][f"{COLUMN['points']}2"].comment.text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in comment)


def test_a_formula_in_the_upload_is_copied_as_text_never_as_a_formula(admin_client):
    data = xlsx_bytes([row(1, points="=1+1")])

    response = upload(admin_client, data, "f.xlsx")

    cell = download(admin_client, response)["f"][f"{COLUMN['points']}2"]
    assert cell.value == "=1+1" and cell.data_type == "s"
    assert "formula" in cell.comment.text


def test_only_the_uploader_may_download_the_marked_copy(admin_client):
    response = upload(admin_client, csv_bytes([row(1, points="x")]), "x.csv")
    other = Client()
    other.force_login(UserFactory(username="admin_two", role="Admin"))

    assert other.get(response.context["marked_url"]).status_code == 404
    assert admin_client.get(response.context["marked_url"]).status_code == 200


def test_a_valid_file_offers_no_marked_copy(admin_client):
    response = upload(admin_client, csv_bytes([row(1)]), "ok.csv")

    assert "marked_url" not in response.context
    assert "problems marked" not in response.content.decode()


def test_warnings_come_before_the_confirm_button(admin_client):
    CustomerFactory(customer_no="OTHER1", phone="+8613900000001")

    page = upload(admin_client, csv_bytes([row(1)]), "w.csv").content.decode()

    assert page.index("Warnings") < page.index("Confirm import")
