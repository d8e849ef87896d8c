"""Importing "customer since" (客户起始日期), a tenure in months instead of it, and the source (来源);
and the import batch every committed import records (file, who, when, exact counts), which the cards
it creates remember. A preview or a failed import leaves no batch."""

import datetime as dt
import io

import pytest
from django.db import DatabaseError
from django.utils import timezone

from crm.models import AuditEntry
from customers import imports, since
from customers.models import Customer, ImportBatch
from tests.factories import ClosureFactory, CustomerFactory
from tests.fixtures.customer_files import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def run(data: bytes, user, *, name: str = "migrated.csv", commit: bool = True) -> imports.ImportReport:
    return imports.import_customers(io.BytesIO(data), name, user=user, commit=commit)


def problems(report) -> list[str]:
    return [str(p) for p in report.problems]


def cards(header: list[str], rows: list[list]) -> bytes:
    return csv_bytes([], header=header, raw_rows=rows)


# --- The columns ---------------------------------------------------------------------------------
def test_customer_since_and_source_are_read_in_the_usual_date_formats_under_chinese_headers(admin_user):
    data = cards(
        ["客户编号", "姓名", "客户起始日期", "来源"],
        [
            ["M1", "甲", "2019-03-21", "旧系统 Legacy CRM"],
            ["M2", "乙", "2019/3/21", "门店"],
            ["M3", "丙", "2019年3月21日", ""],
            ["M4", "丁", "", ""],
        ],
    )
    report = run(data, admin_user)

    assert report.written, problems(report)
    found = dict(Customer.objects.values_list("customer_no", "customer_since"))
    assert found == {"M1": dt.date(2019, 3, 21), "M2": dt.date(2019, 3, 21), "M3": dt.date(2019, 3, 21), "M4": TODAY}
    assert dict(Customer.objects.values_list("customer_no", "source")) == {
        "M1": "旧系统 Legacy CRM",
        "M2": "门店",
        "M3": "",
        "M4": "",
    }


def test_an_excel_date_cell_is_a_customer_since(admin_user):
    data = xlsx_bytes(
        [], header=["customer_no", "name", "customer_since"], raw_rows=[["X1", "甲", dt.datetime(2016, 8, 9)]]
    )
    report = run(data, admin_user, name="m.xlsx")
    assert report.written, problems(report)
    assert Customer.objects.get().customer_since == dt.date(2016, 8, 9)


def test_bad_dates_and_sources_are_problems_of_their_line_and_column(admin_user):
    tomorrow = TODAY + dt.timedelta(days=1)
    data = cards(
        ["customer_no", "name", "客户起始日期", "来源"],
        [
            ["B1", "甲", tomorrow.isoformat(), ""],
            ["B2", "乙", "1899-12-31", ""],
            ["B3", "丙", "21/03/2019", ""],
            ["B4", "丁", "2019-03-21", "x" * 61],
        ],
    )
    report = run(data, admin_user)

    assert not report.written
    assert problems(report) == [
        f"Line 2, 客户起始日期: {tomorrow.isoformat()} is in the future.",
        "Line 3, 客户起始日期: 1899-12-31 is before 1900.",
        "Line 4, 客户起始日期: “21/03/2019” is not a date; use YYYY-MM-DD, for example 1985-03-21.",
        "Line 5, 来源: 61 characters; the maximum is 60.",
    ]
    assert not Customer.objects.exists()


def test_a_tenure_in_months_becomes_customer_since(admin_user):
    data = cards(["customer_no", "name", "tenure"], [["T1", "甲", "24"], ["T2", "乙", "0"], ["T3", "丙", "72"]])
    report = run(data, admin_user)

    assert report.written, problems(report)
    assert report.columns == ["customer_no", "name", "tenure_months"]
    assert dict(Customer.objects.values_list("customer_no", "customer_since")) == {
        "T1": since.months_before(TODAY, 24),
        "T2": TODAY,
        "T3": since.months_before(TODAY, 72),
    }


def test_a_bad_tenure_is_a_problem_and_both_columns_at_once_are_refused(admin_user):
    data = cards(["customer_no", "name", "在网时长"], [["T1", "甲", "-1"], ["T2", "乙", "1.5"], ["T3", "丙", "99999"]])
    assert problems(run(data, admin_user)) == [
        "Line 2, 在网时长: “-1” is not a whole number of months of 0 or more.",
        "Line 3, 在网时长: “1.5” is not a whole number of months of 0 or more.",
        "Line 4, 在网时长: 99999 months before today is before 1900.",
    ]

    both = cards(["customer_no", "name", "customer_since", "tenure_months"], [["T1", "甲", "2020-01-01", "3"]])
    assert run(both, admin_user).file_errors == [
        "The columns “customer_since” and “tenure_months” both mean customer_since; keep only one."
    ]


def test_an_update_cannot_move_customer_since_after_the_first_closure(admin_user):
    card = CustomerFactory(customer_no="U1", customer_since=dt.date(2020, 1, 1))
    ClosureFactory(customer=card, performed_at=timezone.make_aware(dt.datetime(2023, 5, 10, 12)))
    data = cards(["customer_no", "name", "customer_since"], [["U1", card.name, "2023-06-01"]])

    for commit in (False, True):
        report = run(data, admin_user, commit=commit)
        assert problems(report) == [
            "Line 2, customer_since: The card was first closed on 2023-05-10; "
            "the customer must have become one on or before that date."
        ]
        assert not report.written
    card.refresh_from_db()
    assert card.customer_since == dt.date(2020, 1, 1)

    earlier = run(cards(["customer_no", "name", "customer_since"], [["U1", card.name, "2018-02-03"]]), admin_user)
    assert earlier.written and earlier.updated == 1
    card.refresh_from_db()
    assert card.customer_since == dt.date(2018, 2, 3)
    entry = AuditEntry.objects.get(action="customer.update", customer_id=card.pk)
    assert entry.changes == {"customer_since": ["2020-01-01", "2018-02-03"]}


# --- Import batches ------------------------------------------------------------------------------
def test_a_committed_import_records_one_batch_with_exact_counts_and_links_the_cards_it_created(admin_user):
    old = CustomerFactory(customer_no="OLD1", name="旧名")
    same = CustomerFactory(customer_no="OLD2", name="不变")
    data = cards(
        ["customer_no", "name", "source"],
        [["N1", "甲", "旧系统"], ["N2", "乙", "旧系统"], ["OLD1", "新名", ""], ["OLD2", "不变", ""]],
    )

    report = run(data, admin_user, name="迁移.csv")

    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.file_name, batch.created_by) == ("customers", "迁移.csv", admin_user)
    assert (batch.rows, batch.created_count, batch.updated_count, batch.closed_count) == (4, 2, 1, 0)
    assert report.batch_id == batch.pk
    assert sorted(batch.customers.values_list("customer_no", flat=True)) == ["N1", "N2"]
    old.refresh_from_db(), same.refresh_from_db()
    assert (old.name, old.import_batch, same.import_batch) == ("新名", None, None)
    sources = AuditEntry.objects.filter(action__in=["customer.create", "customer.update"]).values_list(
        "data", flat=True
    )
    assert {data["source"]["batch"] for data in sources} == {batch.pk}


def test_a_preview_records_no_batch(admin_user):
    report = run(cards(["customer_no", "name"], [["N1", "甲"]]), admin_user, commit=False)
    assert report.ok and not report.written
    assert not ImportBatch.objects.exists()


def test_an_import_with_a_bad_row_records_no_batch(admin_user):
    report = run(
        cards(["customer_no", "name", "customer_since"], [["N1", "甲", ""], ["N2", "乙", "1800-01-01"]]), admin_user
    )
    assert not report.written
    assert not ImportBatch.objects.exists() and not Customer.objects.exists()


def test_an_import_the_database_refuses_half_way_leaves_no_batch(admin_user, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr("customers.batch._write_tags", refuse)
    report = run(cards(["customer_no", "name"], [["N1", "甲"]]), admin_user)

    assert report.file_errors == ["The database refused the import; nothing was written. Try again later."]
    assert not ImportBatch.objects.exists() and not Customer.objects.exists()


@pytest.mark.postgres
def test_cards_copied_into_postgresql_carry_customer_since_source_and_batch(admin_user):
    """New cards go in with COPY on PostgreSQL (customers.batch): every new column must be written."""
    data = cards(
        ["customer_no", "name", "customer_since", "source"],
        [["P1", "甲", "2011-11-11", "旧系统"], ["P2", "乙", "", ""]],
    )
    report = run(data, admin_user)

    assert report.written, problems(report)
    batch = ImportBatch.objects.get()
    rows = {
        r[0]: r[1:] for r in Customer.objects.values_list("customer_no", "customer_since", "source", "import_batch")
    }
    assert rows == {"P1": (dt.date(2011, 11, 11), "旧系统", batch.pk), "P2": (TODAY, "", batch.pk)}
