"""The purchase-history import (customers.imports.purchases): every row checked with its own message,
then every purchase written with the cards' purchase figures, one audit entry for the file, or nothing."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from crm.models import AuditEntry
from customers.imports.purchases import import_purchases
from customers.models import Customer, Purchase
from tests.factories import CustomerFactory, PurchaseFactory, UserFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def cards(db):
    return {number: CustomerFactory(customer_no=number) for number in ("P-001", "P-002", "1001")}


def messages(report) -> list[str]:
    return [str(problem) for problem in report.problems]


def test_a_csv_with_chinese_headers_writes_every_purchase_and_the_cards_figures(cards):
    report = import_purchases(FIXTURES / "purchases_zh.csv", by=None)

    assert report.file_errors == [] and report.problems == []
    assert report.written and (report.rows, report.purchases, report.cards) == (3, 3, 2)
    first = cards["P-001"]
    rows = list(first.purchases.order_by("purchased_on").values_list("purchased_on", "amount", "product", "quantity"))
    assert rows == [
        (dt.date(2024, 1, 5), Decimal("199.00"), "会员年卡", 1),
        (dt.date(2024, 3, 9), Decimal("1200.50"), "咖啡豆", 3),
    ]
    first.refresh_from_db()
    assert (first.purchase_count, first.purchase_total, first.last_purchase_on) == (
        2,
        Decimal("1399.50"),
        dt.date(2024, 3, 9),
    )
    second = Purchase.objects.get(customer=cards["P-002"])
    assert (second.product, second.quantity, second.amount) == ("", 1, Decimal("58.00"))


def test_an_xlsx_with_date_cells_and_numbers_typed_as_numbers_is_read(cards):
    report = import_purchases(FIXTURES / "purchases.xlsx", by=None)

    assert report.written, messages(report) + report.file_errors
    tea = Purchase.objects.get(customer=cards["1001"])
    assert (tea.purchased_on, tea.amount, tea.quantity, tea.product) == (
        dt.date(2024, 3, 1),
        Decimal("12.00"),
        2,
        "Tea",
    )
    assert Purchase.objects.get(customer=cards["P-002"]).amount == Decimal("58.50")


def test_the_figures_add_to_purchases_already_on_the_card(cards):
    card = cards["P-001"]
    PurchaseFactory(customer=card, amount=Decimal("1.00"), purchased_on=dt.date(2025, 1, 1))
    Customer.objects.filter(pk=card.pk).update(purchase_count=1, purchase_total=Decimal("1.00"))

    import_purchases(FIXTURES / "purchases_zh.csv", by=None)

    card.refresh_from_db()
    assert (card.purchase_count, card.purchase_total, card.last_purchase_on) == (
        3,
        Decimal("1400.50"),
        dt.date(2025, 1, 1),
    )


def test_every_bad_row_has_its_message_and_nothing_is_written(cards):
    closed = CustomerFactory(customer_no="P-CLOSED", status=Customer.Status.CLOSED)

    report = import_purchases(FIXTURES / "purchases_bad.csv", by=None)

    assert not report.written
    assert messages(report) == [
        "Line 3, customer number: No card has the customer number NOBODY; import the customer first.",
        "Line 4, date: “2024-13-40” is not a date; use YYYY-MM-DD, for example 1985-03-21.",
        "Line 5, amount: The amount cannot be negative; leave a refund out of the purchase history.",
        "Line 6, date: 2999-01-01 is in the future.",
        "Line 7, quantity: “0” is not a quantity; write a whole number of 1 or more.",
        f"Line 8, customer number: Card {closed.customer_no} is closed: reinstate it first to change it. "
        "Or remove the row.",
    ]
    assert not Purchase.objects.exists()  # line 2 was good, but a refused file writes nothing
    assert not AuditEntry.objects.filter(action="purchase.import").exists()
    assert Customer.objects.get(pk=cards["P-001"].pk).purchase_count == 0


def test_the_import_writes_one_audit_entry_for_the_file(cards):
    user = UserFactory(role="Admin")

    import_purchases(FIXTURES / "purchases_zh.csv", by=user)

    entry = AuditEntry.objects.get(action="purchase.import")
    assert (entry.actor, entry.summary) == (user, "purchases_zh.csv")
    assert entry.changes["purchases"] == [None, 3] and entry.changes["cards"] == [None, 2]
    assert not AuditEntry.objects.filter(action="purchase.create").exists()
    assert set(Purchase.objects.values_list("recorded_by", flat=True)) == {user.pk}


def test_staff_may_not_import_purchases(cards, staff_user):
    report = import_purchases(FIXTURES / "purchases_zh.csv", by=staff_user)

    assert report.file_errors == ["Only an Admin can import purchases."]
    assert not Purchase.objects.exists()


def test_missing_cards_are_created_through_the_customer_import_when_asked(cards):
    rows = [
        (1, ["customer_no", "date", "amount"]),
        (2, ["NEW-1", "2024-05-01", "9.90"]),
        (3, ["P-001", "2024-05-02", "1"]),
    ]

    report = import_purchases(rows, by=None, create_missing_cards=True, file_name="rows.csv")

    assert report.written and report.new_cards == 1
    card = Customer.objects.get(customer_no="NEW-1")
    assert (card.name, card.purchase_count, card.purchase_total) == ("NEW-1", 1, Decimal("9.90"))
    assert AuditEntry.objects.filter(action="customer.create", customer_id=card.pk).exists()


def test_a_file_without_an_amount_column_is_refused_as_a_whole(cards):
    report = import_purchases([(1, ["customer_no", "date"]), (2, ["P-001", "2024-05-02"])], by=None, file_name="x.csv")

    assert report.file_errors and "amount" in report.file_errors[0]
    assert not Purchase.objects.exists()


def test_the_command_prints_the_report(cards, capsys):
    call_command("import_purchases", str(FIXTURES / "purchases_zh.csv"))

    assert "3 purchases on 2 cards" in capsys.readouterr().out
    assert Purchase.objects.count() == 3


def test_the_command_fails_on_a_file_with_problems_and_lists_them(cards, capsys):
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_purchases", str(FIXTURES / "purchases_bad.csv"))

    assert "Line 3, customer number: No card has the customer number NOBODY" in capsys.readouterr().err
