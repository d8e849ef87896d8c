"""Importing customer files: good files in every accepted form, re-imports, and every kind of bad file.

Each test reads the database afterwards: a bad file must write nothing at all.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest

from crm.models import AuditEntry
from customers import imports
from customers.models import Customer, ImportBatch, Tag
from tests.factories import CustomerFactory, UserFactory
from tests.fixtures.customer_files import (
    CHINESE_HEADER,
    HEADER,
    TYPED_ROW,
    csv_bytes,
    good_rows,
    row,
    xlsx_bytes,
    zip_bomb_xlsx,
    zip_that_is_not_a_workbook,
)

pytestmark = pytest.mark.django_db


def run(data: bytes, name: str, user, *, commit: bool = True) -> imports.ImportReport:
    return imports.import_customers(io.BytesIO(data), name, user=user, commit=commit)


def problems(report) -> list[str]:
    return [str(p) for p in report.problems]


# --- Good files --------------------------------------------------------------------------------
def test_a_good_workbook_creates_every_customer_with_every_field(admin_user):
    owner = UserFactory(username="li.na")
    report = run(xlsx_bytes(good_rows(3, owner="li.na")), "customers.xlsx", admin_user)

    assert report.written, (report.file_errors, problems(report))
    assert (report.created, report.updated, report.rows) == (3, 0, 3)
    customer = Customer.objects.get(customer_no="IMP0002")
    assert customer.name == "张伟2"
    assert customer.gender == "m"
    assert customer.birth_date == dt.date(1985, 3, 21)
    assert customer.phone == "+8613900000002"
    assert customer.phone_rev == "8613900000002"[::-1]
    assert customer.email == "zhang2@example.cn"
    assert customer.segment == Customer.Segment.KEY
    assert customer.stage == Customer.Stage.REPEAT
    assert customer.owner == owner
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "老客户"]
    assert customer.balance == Decimal("1200.50")
    assert customer.points == 350
    assert customer.status == Customer.Status.ACTIVE


def test_typed_excel_cells_dates_numbers_and_english_labels_are_read(admin_user):
    report = run(xlsx_bytes([], raw_rows=[TYPED_ROW]), "typed.xlsx", admin_user)

    assert report.written, (report.file_errors, problems(report))
    customer = Customer.objects.get(customer_no="IMP0001")
    assert customer.birth_date == dt.date(1990, 5, 17)
    assert customer.phone == "+8613812345678"
    assert customer.gender == "f"
    assert customer.segment == Customer.Segment.KEY
    assert customer.stage == Customer.Stage.FIRST_PURCHASE
    assert customer.balance == Decimal("88.80")
    assert customer.points == 120


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_in_gb18030_keeps_chinese_intact(admin_user, encoding):
    rows = good_rows(2)
    rows[0]["name"] = "欧阳娜娜"
    report = run(csv_bytes(rows, encoding=encoding), "customers.csv", admin_user)

    assert report.written, (report.file_errors, problems(report))
    assert Customer.objects.get(customer_no="IMP0001").name == "欧阳娜娜"
    assert Customer.objects.get(customer_no="IMP0001").city == "上海"
    assert Customer.objects.count() == 2


def test_chinese_column_names_are_accepted(admin_user):
    report = run(xlsx_bytes(good_rows(2), header=CHINESE_HEADER), "中文表头.xlsx", admin_user)

    assert report.written, (report.file_errors, problems(report))
    assert Customer.objects.get(customer_no="IMP0001").phone == "+8613900000001"


def test_semicolon_separated_csv_is_read(admin_user):
    report = run(csv_bytes(good_rows(2), delimiter=";"), "excel-europe.csv", admin_user)

    assert report.written, (report.file_errors, problems(report))
    assert Customer.objects.count() == 2


def test_only_some_columns_are_needed_and_the_rest_take_their_defaults(admin_user):
    data = csv_bytes([], header=["customer_no", "name"], raw_rows=[["N1", "李雷"], ["N2", "韩梅梅"]])
    report = run(data, "minimal.csv", admin_user)

    assert report.written
    customer = Customer.objects.get(customer_no="N1")
    assert (customer.segment, customer.stage, customer.balance, customer.phone) == ("potential", "prospect", 0, "")


@pytest.mark.parametrize(
    ("segment", "stage"),
    [("key", "loyal"), ("Key account", "Loyal"), ("重点客户", "忠诚"), (" KEY ", "loyal"), ("大客户", "忠实客户")],
)
def test_choices_are_read_from_codes_and_english_or_chinese_labels(admin_user, segment, stage):
    run(xlsx_bytes([row(1, segment=segment, stage=stage)]), "c.xlsx", admin_user)

    customer = Customer.objects.get(customer_no="IMP0001")
    assert (customer.segment, customer.stage) == ("key", "loyal")


def test_a_dry_run_writes_nothing_but_counts_what_would_happen(admin_user):
    CustomerFactory(customer_no="IMP0001", name="旧名字")
    report = run(xlsx_bytes(good_rows(3)), "c.xlsx", admin_user, commit=False)

    assert report.ok and not report.written
    assert (report.created, report.updated) == (2, 1)
    assert report.new_tag_list == ["VIP", "老客户"]
    assert Customer.objects.count() == 1
    assert Customer.objects.get(customer_no="IMP0001").name == "旧名字"
    assert not Tag.objects.exists()
    assert not AuditEntry.objects.filter(action="customer.import").exists()


# --- Re-imports ----------------------------------------------------------------------------------
def test_reimporting_updates_customers_by_number_instead_of_duplicating_them(admin_user):
    run(xlsx_bytes(good_rows(3)), "first.xlsx", admin_user)
    changed = good_rows(3)
    changed[1]["name"] = "张伟（已改名）"
    changed[1]["tags"] = "VIP"

    report = run(xlsx_bytes(changed), "second.xlsx", admin_user)

    assert report.written
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert Customer.objects.count() == 3
    customer = Customer.objects.get(customer_no="IMP0002")
    assert customer.name == "张伟（已改名）"
    assert list(customer.tags.values_list("name", flat=True)) == ["VIP"]


def test_an_update_writes_dates_amounts_owners_and_the_update_time(admin_user):
    owner = UserFactory(username="wang.fang")
    existing = CustomerFactory(customer_no="IMP0001", name="张伟1", points=1)
    stamp = existing.updated_at
    rows = [row(1, owner="wang.fang", birth_date="1979/12/31", balance="¥2,000.05", points="9", segment="潜在客户")]

    report = run(xlsx_bytes(rows), "update.xlsx", admin_user)

    assert report.written and report.updated == 1
    existing.refresh_from_db()
    assert existing.owner == owner
    assert existing.birth_date == dt.date(1979, 12, 31)
    assert existing.balance == Decimal("2000.05")
    assert (existing.points, existing.segment) == (9, "potential")
    assert existing.updated_at > stamp


def test_an_empty_cell_keeps_the_existing_value(admin_user):
    existing = CustomerFactory(customer_no="IMP0001", name="王芳", email="wang@example.cn", points=77)
    data = csv_bytes([], header=["customer_no", "name", "email", "points"], raw_rows=[["IMP0001", "王芳芳", "", ""]])

    report = run(data, "partial.csv", admin_user)

    assert report.written and report.updated == 1
    existing.refresh_from_db()
    assert (existing.name, existing.email, existing.points) == ("王芳芳", "wang@example.cn", 77)


def test_an_update_changes_the_phone_and_its_reversed_digits(admin_user):
    existing = CustomerFactory(customer_no="IMP0001", phone="+8613900000001")
    data = csv_bytes([], header=["customer_no", "name", "phone"], raw_rows=[["IMP0001", existing.name, "13700001234"]])

    run(data, "phones.csv", admin_user)

    existing.refresh_from_db()
    assert existing.phone == "+8613700001234"
    assert existing.phone_rev == "8613700001234"[::-1]


def test_the_import_is_audited_with_the_file_name_and_counts_and_once_per_card(admin_user):
    run(xlsx_bytes(good_rows(4)), "april.xlsx", admin_user)

    entry = AuditEntry.objects.get(action="customer.import")
    assert entry.actor == admin_user
    assert "april.xlsx" in entry.summary
    assert entry.changes["created"] == [None, 4]
    assert entry.changes["file"] == [None, "april.xlsx"]
    created = AuditEntry.objects.filter(action="customer.create").order_by("customer_id")
    assert [e.customer_id for e in created] == list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    batch = ImportBatch.objects.get()
    assert [e.data["source"] for e in created] == [
        {"kind": "import", "file": "april.xlsx", "line": line, "batch": batch.pk} for line in (2, 3, 4, 5)
    ]
    assert entry.data["batch"] == batch.pk
    assert AuditEntry.objects.count() == 5


def test_an_erased_customer_cannot_be_imported_again(admin_user):
    CustomerFactory(customer_no="IMP0001", name="", phone="", email="", status=Customer.Status.ERASED)

    report = run(xlsx_bytes(good_rows(2)), "c.xlsx", admin_user)

    assert not report.written
    assert problems(report) == [
        "Line 2, customer_no: The personal data of card IMP0001 was deleted; the card can never be changed again."
    ]
    assert Customer.objects.get(customer_no="IMP0001").name == ""
    assert not Customer.objects.filter(customer_no="IMP0002").exists()


def test_a_phone_already_on_another_card_is_a_warning_not_an_error(admin_user):
    CustomerFactory(customer_no="OLD1", phone="+8613900000002")

    report = run(xlsx_bytes(good_rows(2)), "c.xlsx", admin_user)

    assert report.written
    assert [str(w) for w in report.warnings] == [
        "Line 3, phone: +8613900000002 already belongs to customer OLD1; check that this is not a duplicate."
    ]


# --- Bad rows: every one listed, nothing written -------------------------------------------------
def test_every_bad_row_is_listed_with_its_line_column_and_a_plain_message(admin_user):
    rows = good_rows(5)
    rows[1]["phone"] = "1390000000"  # line 3: 10 digits
    rows[2]["birth_date"] = "1990-13-45"  # line 4
    rows[3]["email"] = "not-an-email"  # line 5
    rows[4]["segment"] = "gold"  # line 6

    report = run(xlsx_bytes(rows), "bad.xlsx", admin_user)

    assert not report.written
    assert problems(report) == [
        "Line 3, phone: This mobile number has 10 digits; Chinese mobiles have 11.",
        "Line 4, birth_date: “1990-13-45” is not a date; use YYYY-MM-DD, for example 1985-03-21.",
        "Line 5, email: “not-an-email” is not a valid email address.",
        "Line 6, segment: “gold” is not one of the accepted values (potential, regular, key, "
        "or their names in English or Chinese).",
    ]
    assert report.bad_lines == {3, 4, 5, 6}
    assert Customer.objects.count() == 0
    assert not Tag.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_line_number_is_the_spreadsheet_row_even_after_blank_rows(admin_user):
    data = csv_bytes(
        [], header=["customer_no", "name", "phone"], raw_rows=[["A1", "甲", ""], [], [], ["A2", "乙", "12"]]
    )

    report = run(data, "gaps.csv", admin_user)

    assert [(p.line, p.column) for p in report.problems] == [(5, "phone")]


def test_problems_use_the_column_name_written_in_the_file(admin_user):
    rows = good_rows(1, phone="123")
    report = run(xlsx_bytes(rows, header=CHINESE_HEADER), "c.xlsx", admin_user)

    assert report.problems[0].column == "手机"
    assert report.problems[0].line == 2


def test_one_bad_row_among_many_good_ones_still_writes_nothing(admin_user):
    rows = good_rows(30)
    rows[29]["points"] = "-5"

    report = run(xlsx_bytes(rows), "c.xlsx", admin_user)

    assert problems(report) == ["Line 31, points: “-5” is not a whole number of 0 or more."]
    assert Customer.objects.count() == 0


def test_a_bad_row_after_the_first_chunk_was_written_rolls_everything_back(admin_user, monkeypatch):
    monkeypatch.setattr("customers.imports.cleaning.CHUNK_SIZE", 5)
    rows = good_rows(12)
    rows[11]["birth_date"] = "2999-01-01"

    report = run(csv_bytes(rows), "c.csv", admin_user)

    assert problems(report) == ["Line 13, birth_date: 2999-01-01 is in the future."]
    assert Customer.objects.count() == 0
    assert not Tag.objects.exists()


def test_missing_names_and_numbers_are_reported(admin_user):
    report = run(csv_bytes([row(1, name=""), row(2, customer_no="  ")]), "c.csv", admin_user)

    assert problems(report) == [
        "Line 2, name: This column is required; the cell is empty.",
        "Line 3, customer_no: This column is required; the cell is empty.",
    ]


def test_duplicate_customer_numbers_and_phones_in_the_file_are_refused(admin_user):
    rows = good_rows(4)
    rows[2]["customer_no"] = "IMP0001"
    rows[3]["phone"] = "139 0000 0002"

    report = run(xlsx_bytes(rows), "dups.xlsx", admin_user)

    assert problems(report) == [
        "Line 4, customer_no: IMP0001 is also on line 2; each customer number may appear once.",
        "Line 5, phone: +8613900000002 is also on line 3; two customers cannot share a mobile number.",
    ]
    assert Customer.objects.count() == 0


def test_overlong_values_name_the_columns_maximum(admin_user):
    report = run(xlsx_bytes([row(1, name="名" * 101, city="x" * 61)]), "long.xlsx", admin_user)

    assert problems(report) == [
        "Line 2, name: 101 characters; the maximum is 100.",
        "Line 2, city: 61 characters; the maximum is 60.",
    ]


def test_an_unknown_owner_is_reported(admin_user):
    report = run(xlsx_bytes([row(1, owner="nobody")]), "c.xlsx", admin_user)

    assert problems(report) == ["Line 2, owner: No active user has the username “nobody”."]


def test_the_templates_example_row_is_refused(admin_user):
    report = run(imports.template_bytes("csv"), "customer-import-template.csv", admin_user)

    assert problems(report) == ["Line 2, customer_no: This is the template's example row; delete it before importing."]
    assert Customer.objects.count() == 0


def test_html_and_script_in_names_are_stored_as_plain_text(admin_user):
    name = '<script>alert("x")</script><b>王</b>'
    run(csv_bytes([row(1, name=name)]), "c.csv", admin_user)

    assert Customer.objects.get(customer_no="IMP0001").name == name


def test_formula_cells_in_a_workbook_are_refused_not_evaluated(admin_user):
    rows = good_rows(2)
    rows[1]["name"] = '=HYPERLINK("http://evil.example","click")'
    rows[0]["points"] = "=1+2"

    report = run(xlsx_bytes(rows), "formulas.xlsx", admin_user)

    assert [(p.line, p.column) for p in report.problems] == [(2, "points"), (3, "name")]
    assert "formula" in report.problems[0].message
    assert Customer.objects.count() == 0


def test_formula_text_in_a_csv_is_kept_as_text(admin_user):
    run(csv_bytes([row(1, name="=1+2", preferences="@SUM(A1)")]), "c.csv", admin_user)

    customer = Customer.objects.get(customer_no="IMP0001")
    assert (customer.name, customer.preferences) == ("=1+2", "@SUM(A1)")


def test_the_apostrophe_our_csv_exports_put_before_formula_text_is_removed(admin_user):
    run(csv_bytes([row(1, name="'=1+2", phone="'+8613900000001")]), "export.csv", admin_user)

    customer = Customer.objects.get(customer_no="IMP0001")
    assert (customer.name, customer.phone) == ("=1+2", "+8613900000001")


# --- Bad files -----------------------------------------------------------------------------------
def file_errors(data: bytes, name: str, user) -> list[str]:
    report = run(data, name, user)
    assert not report.written
    assert Customer.objects.count() == 0
    assert not AuditEntry.objects.filter(action="customer.import").exists()
    return report.file_errors


def test_missing_required_columns_are_named(admin_user):
    data = csv_bytes([], header=["phone", "city"], raw_rows=[["13900000001", "上海"]])

    assert file_errors(data, "c.csv", admin_user) == [
        "The file has no customer_no and name column. The first row must hold the column names; "
        "the template shows them."
    ]


def test_unknown_and_doubled_columns_are_named(admin_user):
    data = csv_bytes(
        [], header=["customer_no", "name", "手机", "phone", "shoe size"], raw_rows=[["A1", "甲", "", "", ""]]
    )

    assert file_errors(data, "c.csv", admin_user) == [
        "The columns “手机” and “phone” both mean phone; keep only one.",
        "These columns are not recognised: “shoe size”. The accepted columns are customer_no, name, gender, "
        "birth_date, occupation, company, title, phone, email, wechat, city, address, segment, stage, owner, tags, "
        "preferences, balance, points, customer_since, source, language, email_marketing, sms_marketing, "
        "phone_marketing, do_not_contact, tenure_months (or their Chinese names).",
    ]


@pytest.mark.parametrize(
    "data",
    [
        "客户编号,姓名\nA1,张伟\n".encode("utf-16"),
        b"customer_no,name\nA1,\xff\xfe\xfa\n",
        b"customer_no,name\x00\nA1,x\n",
    ],
    ids=["utf-16", "invalid-bytes", "nul-bytes"],
)
def test_a_csv_in_another_encoding_gets_a_clear_message(admin_user, data):
    (message,) = file_errors(data, "c.csv", admin_user)
    assert message.startswith("The file is not UTF-8 or GB18030 text")


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"", "empty.csv"), (b"", "empty.xlsx"), (b"\n\n , \n", "blank.csv"), (b"\xef\xbb\xbf", "bom-only.csv")],
)
def test_an_empty_file_is_refused(admin_user, data, name):
    assert file_errors(data, name, admin_user) == ["The file is empty."]


def test_an_empty_workbook_is_refused(admin_user):
    assert file_errors(xlsx_bytes([], header=[""]), "empty.xlsx", admin_user) == ["The file is empty."]


@pytest.mark.parametrize("make", [lambda: csv_bytes([]), lambda: xlsx_bytes([])], ids=["csv", "xlsx"])
def test_a_header_without_customers_is_refused(admin_user, make):
    name = "h.csv" if make().startswith(b"customer_no") else "h.xlsx"
    assert file_errors(make(), name, admin_user) == ["The file has a header row but no customers."]


@pytest.mark.parametrize(
    "data",
    [b"customer_no,name\nA1,x\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, zip_that_is_not_a_workbook()],
    ids=["text", "png", "other-zip"],
)
def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(admin_user, data):
    (message,) = file_errors(data, "customers.xlsx", admin_user)
    assert message.startswith("The file is not an Excel workbook (.xlsx)")


def test_a_truncated_workbook_is_refused(admin_user):
    data = xlsx_bytes(good_rows(50))
    (message,) = file_errors(data[: len(data) // 2], "cut.xlsx", admin_user)
    assert message.startswith("The file is not an Excel workbook (.xlsx)")


def test_a_zip_bomb_is_refused_before_it_is_decompressed(admin_user):
    (message,) = file_errors(zip_bomb_xlsx(), "bomb.xlsx", admin_user)
    assert "zip bomb" in message


def test_a_workbook_named_csv_is_refused(admin_user):
    (message,) = file_errors(xlsx_bytes(good_rows(1)), "customers.csv", admin_user)
    assert message == "This file is an Excel workbook, not CSV; give it the .xlsx extension."


@pytest.mark.parametrize("name", ["customers.xls", "customers.txt", "customers"])
def test_other_file_types_are_refused(admin_user, name):
    (message,) = file_errors(csv_bytes(good_rows(1)), name, admin_user)
    assert ".xlsx" in message


def test_a_file_over_the_size_limit_is_refused(admin_user, settings):
    settings.IMPORT_MAX_BYTES = 1000
    data = csv_bytes(good_rows(20))
    assert len(data) > 1000

    assert file_errors(data, "big.csv", admin_user) == ["The file is larger than 1 KB; split it into smaller files."]


def test_a_file_over_the_row_cap_is_refused(admin_user, settings):
    settings.IMPORT_MAX_ROWS = 3

    assert file_errors(xlsx_bytes(good_rows(4)), "many.xlsx", admin_user) == [
        "The file has more than 3 customers; split it into files of at most that many rows."
    ]


def test_a_csv_cell_over_the_csv_field_limit_is_refused(admin_user):
    data = csv_bytes([], header=["customer_no", "name"], raw_rows=[["A1", "x" * 200_000]])
    (message,) = file_errors(data, "huge-cell.csv", admin_user)
    assert message.startswith("Line 2 cannot be read as CSV")


def test_an_export_only_column_is_read_past(admin_user):
    data = csv_bytes([], header=["customer_no", "name", "status", "created_at"], raw_rows=[["A1", "甲", "Closed", "x"]])
    report = run(data, "export.csv", admin_user)

    assert report.written
    assert report.ignored_columns == ["status", "created_at"]
    assert Customer.objects.get(customer_no="A1").status == Customer.Status.ACTIVE


def test_headers_match_every_column():
    assert [name for _i, name, _h in imports.map_columns(HEADER).positions] == HEADER
    assert [name for _i, name, _h in imports.map_columns(CHINESE_HEADER).positions] == HEADER


def test_a_database_failure_half_way_writes_nothing_and_says_so(admin_user, monkeypatch):
    from django.db import OperationalError

    from customers.imports import operation

    monkeypatch.setattr("customers.imports.cleaning.CHUNK_SIZE", 5)
    real_flush = operation._Importer.flush
    calls = []

    def failing_flush(self, chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_flush(self, chunk)

    monkeypatch.setattr(operation._Importer, "flush", failing_flush)

    report = run(csv_bytes(good_rows(40)), "c.csv", admin_user)

    assert report.file_errors == ["The database refused the import; nothing was written. Try again later."]
    assert not report.written
    assert Customer.objects.count() == 0
