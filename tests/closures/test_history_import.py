"""Importing historical closures, the preview: every rule is a problem with its line and column.

Nothing is written by a preview; the writes are in test_history_import_writes.py.
"""

import datetime as dt

import pytest
from django.utils import timezone

from closures import operations
from closures.models import Closure, ClosureReason, ClosureRequest
from closures.rules import ClosureChoice
from customers.models import Customer
from tests.factories import ClosureReasonFactory, CustomerFactory, UserFactory

from .history_files import csv_bytes, problems, run, xlsx_bytes

pytestmark = pytest.mark.django_db
SINCE = dt.date(2018, 1, 1)


@pytest.fixture(autouse=True)
def shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def card(db):
    return CustomerFactory(customer_no="H000001", customer_since=SINCE)


def reason(code: str) -> ClosureReason:
    return ClosureReason.objects.get(code=code)


def close_now(card, staff_user):
    operations.close_customer(card, ClosureChoice("close", reason("price")), by=staff_user)


def request_closure(card, staff_user):
    ClosureRequest.objects.create(customer=card, action="close", reason=reason("price"), requested_by=staff_user)


def closed_then_reinstated(card, manager_user):
    operations.close_customer(card, ClosureChoice("close", reason("price")), by=manager_user)
    operations.reinstate(card, by=manager_user, note="Came back")


def retire(code):
    def setup(card, user):
        ClosureReason.objects.filter(code=code).update(is_active=False)

    return setup


def with_balance(card, user):
    Customer.objects.filter(pk=card.pk).update(balance=120)


def status(value):
    def setup(card, user):
        Customer.objects.filter(pk=card.pk).update(status=value)

    return setup


NEXT_YEAR = (timezone.localdate() + dt.timedelta(days=366)).isoformat()
# (the row after the header, what to set up first, the column named, words of the message)
RULES = {
    "unknown customer": (["NOPE-1", "close", "price", "2021-03-05"], None, "customer_no", "No customer has the number"),
    "the template's example row": (
        ["EXAMPLE-0001", "close", "price", "2021-03-05"],
        None,
        "customer_no",
        "example row",
    ),
    "already closed": (["H000001", "close", "price", "2021-03-05"], close_now, "customer_no", "already closed by"),
    "void without a closure": (
        ["H000001", "close", "price", "2021-03-05"],
        status("void"),
        "customer_no",
        "not active",
    ),
    "erased": (["H000001", "close", "price", "2021-03-05"], status("erased"), "customer_no", "already been deleted"),
    "pending approval": (["H000001", "close", "price", "2021-03-05"], request_closure, "customer_no", "waiting for"),
    "unknown action": (["H000001", "destroy", "price", "2021-03-05"], None, "action", "is not an action"),
    "deletion": (["H000001", "删除", "price", "2021-03-05"], None, "action", "not history"),
    "unknown reason": (["H000001", "close", "bad luck", "2021-03-05"], None, "reason", "No reason has the code"),
    "reason for another action": (["H000001", "void", "price", "2021-03-05"], None, "reason", "not meant for"),
    "retired reason": (["H000001", "close", "price", "2021-03-05"], retire("price"), "reason", "is retired"),
    "duplicate needs a survivor": (["H000001", "void", "duplicate", "2021-03-05"], None, "reason", "one by one"),
    "no reason nor category": (["H000001", "close", "", "2021-03-05"], None, "reason", "Give a reason or a category"),
    "notes required": (["H000001", "close", "other", "2021-03-05"], None, "notes", "needs notes"),
    "no date": (["H000001", "close", "price", ""], None, "closed_at", "required"),
    "not a date": (["H000001", "close", "price", "2021-02-30"], None, "closed_at", "is not a date"),
    "not a date either": (["H000001", "close", "price", "last spring"], None, "closed_at", "is not a date"),
    "in the future": (["H000001", "close", "price", NEXT_YEAR], None, "closed_at", "in the future"),
    "before 1900": (["H000001", "close", "price", "1899-12-31"], None, "closed_at", "before 1900"),
    "before customer since": (["H000001", "close", "price", "2017-12-31"], None, "closed_at", "customer since"),
    "before a later closure": (
        ["H000001", "close", "price", "2021-03-05"],
        closed_then_reinstated,
        "closed_at",
        "already has a closure or reinstatement",
    ),
    "a balance not settled": (["H000001", "close", "price", "2021-03-05"], with_balance, "settlement_note", "settled"),
}


@pytest.mark.parametrize("case", RULES, ids=list(RULES))
def test_each_rule_is_a_problem_with_its_line_and_column(case, card, admin_user, manager_user):
    row, setup, column, words = RULES[case]
    CustomerFactory(customer_no="C000900", customer_since=SINCE)  # a good row first: the problem is on line 3
    if setup:
        setup(card, manager_user)
    report = run(admin_user, csv_bytes(["C000900", "close", "competitor", "2021-01-01"], row))

    assert not report.ok
    assert len(report.problems) == 1, problems(report)
    line, named, message = problems(report)[0]
    assert (line, named) == (3, column)
    assert words in message
    assert not Closure.objects.filter(customer=card, performed_at__year=2021).exists()


def test_a_card_named_twice_is_a_problem_on_its_second_line(card, admin_user):
    report = run(
        admin_user, csv_bytes(["H000001", "close", "price", "2021-03-05"], ["h000001", "close", "price", "2021-04-05"])
    )

    assert problems(report) == [(3, "customer_no", "H000001 is also on line 2; a card can be closed once per file.")]


def test_a_row_with_several_problems_lists_each(card, admin_user):
    report = run(admin_user, csv_bytes(["NOPE", "shut", "price", "someday"]))

    # The unknown card too, although the row's cells already failed: every problem in one pass.
    assert sorted(column for _line, column, _message in problems(report)) == ["action", "closed_at", "customer_no"]


def test_problems_name_the_column_as_the_file_heads_it(card, admin_user):
    header = ["客户编号", "操作", "原因", "销卡日期"]
    report = run(admin_user, csv_bytes(["H000001", "关门", "价格过高", "2021-03-05"], header=header))

    assert problems(report) == [
        (2, "操作", "“关门” is not an action; write close, void or archive (or 销卡, 作废, 归档).")
    ]


def test_a_category_alone_means_its_first_active_reason_for_the_action(admin_user):
    CustomerFactory(customer_no="H1", customer_since=SINCE)
    CustomerFactory(customer_no="H2", customer_since=SINCE)
    ClosureReason.objects.filter(code="moved-away").update(is_active=False)  # retired: skipped
    header = ["customer_no", "action", "category", "closed_at"]
    data = csv_bytes(["H1", "close", "moved", "2021-03-05"], ["H2", "作废", "Moved away", "2021-03-05"], header=header)

    report = run(admin_user, data, commit=True)

    assert report.written, problems(report)
    chosen = dict(Closure.objects.values_list("customer__customer_no", "reason__code"))
    assert chosen == {"H1": "company-left-market", "H2": "company-left-market"}


def test_a_category_without_a_reason_for_the_action_is_refused(card, admin_user):
    header = ["customer_no", "action", "category", "closed_at"]
    report = run(admin_user, csv_bytes(["H000001", "void", "价格", "2021-03-05"], header=header))

    assert problems(report) == [
        (2, "category", "The category “Price” has no active reason for “Void record”; give a reason instead.")
    ]


def test_a_reason_outside_the_category_given_is_refused(card, admin_user):
    header = ["customer_no", "action", "reason", "category", "closed_at"]
    report = run(admin_user, csv_bytes(["H000001", "close", "price", "service", "2021-03-05"], header=header))

    assert problems(report) == [(2, "category", "The reason “Price too high” is not in this category.")]


def test_an_unknown_category_is_refused(card, admin_user):
    header = ["customer_no", "action", "category", "closed_at"]
    report = run(admin_user, csv_bytes(["H000001", "close", "weather", "2021-03-05"], header=header))

    assert [(line, column) for line, column, _m in problems(report)] == [(2, "category")]


def test_reasons_are_found_by_code_or_label_in_either_language(admin_user):
    for number in ("H1", "H2", "H3"):
        CustomerFactory(customer_no=number, customer_since=SINCE)
    data = csv_bytes(
        ["H1", "close", "price", "2021-03-05"],
        ["H2", "close", "Price too high", "2021-03-05"],
        ["H3", "close", "价格过高", "2021-03-05"],
    )

    report = run(admin_user, data)

    assert report.ok, problems(report)
    assert report.by_action == {"close": 3}


def test_two_reasons_with_one_label_ask_for_the_code(card, admin_user):
    ClosureReasonFactory(code="price-2", label_en="Price too high", label_zh="太贵", for_close=True)

    report = run(admin_user, csv_bytes(["H000001", "close", "Price too high", "2021-03-05"]))

    assert "write the reason's code instead (price, price-2)" in problems(report)[0][2]


def test_a_header_without_the_required_columns_is_a_file_error(admin_user):
    report = run(admin_user, csv_bytes(["H000001", "2021-03-05"], header=["customer_no", "closed_at"]))

    assert report.file_errors == [
        "The file has no action column. The first row must hold the column names; the template shows them.",
        "The file needs a reason column, a category column or both.",
    ]


def test_a_file_with_only_a_header_is_a_file_error(admin_user):
    assert run(admin_user, csv_bytes()).file_errors == ["The file has no rows below its header."]


def test_more_rows_than_the_limit_is_a_file_error(card, admin_user, settings):
    settings.CLOSURE_IMPORT_MAX_ROWS = 1
    report = run(
        admin_user, csv_bytes(["H000001", "close", "price", "2021-03-05"], ["H2", "close", "price", "2021-03-05"])
    )

    assert report.file_errors == ["The file has more than 1 closures; split it into smaller files."]


def test_xlsx_date_cells_are_dates_and_formulas_are_refused(card, admin_user):
    CustomerFactory(customer_no="H2", customer_since=SINCE)
    data = xlsx_bytes(
        ["H000001", "close", "price", dt.datetime(2021, 3, 5, 14, 30)],
        ["H2", "close", "price", "=TODAY()"],
    )

    report = run(admin_user, data, "history.xlsx")

    assert [(line, column) for line, column, _m in problems(report)] == [(3, "closed_at")]
    assert "formula" in problems(report)[0][2]


def test_only_admins_may_import(card, manager_user):
    report = run(manager_user, csv_bytes(["H000001", "close", "price", "2021-03-05"]), commit=True)

    assert report.file_errors == ["Only an Admin can import historical closures."]
    assert not Closure.objects.exists()


def test_a_preview_writes_nothing(card, admin_user):
    report = run(admin_user, csv_bytes(["H000001", "close", "price", "2021-03-05"]))

    assert report.ok and not report.written
    card.refresh_from_db()
    assert card.status == "active"
    assert not Closure.objects.exists()


def test_a_name_two_users_share_is_kept_as_written_with_a_warning(card, admin_user):
    UserFactory(username="wang1", first_name="Fang", last_name="Wang")
    UserFactory(username="wang2", first_name="Fang", last_name="Wang")
    data = csv_bytes(["H000001", "close", "price", "2021-03-05", "", "Fang Wang"])

    report = run(admin_user, data, commit=True)

    assert report.written
    assert [(w.line, w.column) for w in report.warnings] == [(2, "performed_by")]
    closure = Closure.objects.get()
    assert (closure.performed_by, closure.performed_by_name) == (admin_user, "Fang Wang")


def test_a_username_in_another_case_and_a_chinese_full_name_find_their_users(admin_user):
    li = UserFactory(username="Li01", first_name="伟", last_name="李")
    CustomerFactory(customer_no="H1", customer_since=SINCE)
    CustomerFactory(customer_no="H2", customer_since=SINCE)
    data = csv_bytes(
        ["H1", "close", "price", "2021-03-05", "", "li01"], ["H2", "close", "price", "2021-03-05", "", "李伟"]
    )

    assert run(admin_user, data, commit=True).written
    assert set(Closure.objects.values_list("performed_by", "performed_by_name")) == {(li.pk, "")}
