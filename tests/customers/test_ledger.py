"""The balance ledger: a card's balance and points change only through entries, each audited."""

import importlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.urls import reverse

from crm.models import AuditEntry
from customers import ledger
from customers.models import Customer, LedgerEntry
from tests.customers.test_import_gate import run
from tests.factories import CustomerFactory

Kind = LedgerEntry.Kind


def recount(customer) -> tuple[Decimal, int]:
    totals = customer.ledger.aggregate(amount=Sum("amount"), points=Sum("points"))
    return totals["amount"] or Decimal("0.00"), totals["points"] or 0


def test_a_top_up_adds_to_the_balance_with_an_entry_and_an_audit_entry(staff_user):
    customer = CustomerFactory(balance=Decimal("100.00"))
    entry = ledger.post(customer, Kind.TOP_UP, amount="50.25", points=10, method="cash", by=staff_user)
    customer.refresh_from_db()
    assert (customer.balance, customer.points) == (Decimal("150.25"), 10)
    assert (entry.amount, entry.balance_after, entry.points_after, entry.by) == (
        Decimal("50.25"),
        Decimal("150.25"),
        10,
        staff_user,
    )
    audit = AuditEntry.objects.get(action="ledger.top_up")
    assert audit.customer_id == customer.pk
    assert audit.changes == {"balance": ["100.00", "150.25"], "points": [0, 10]}
    assert audit.data == {"entry": entry.pk, "kind": "top_up", "method": "cash"}


def test_paying_more_than_the_balance_is_refused_and_nothing_is_written(staff_user):
    customer = CustomerFactory(balance=Decimal("120.00"))
    with pytest.raises(ValidationError, match="negative"):
        ledger.post(customer, Kind.SPEND, amount="150", by=staff_user)
    customer.refresh_from_db()
    assert customer.balance == Decimal("120.00")
    assert list(customer.ledger.values_list("kind", flat=True)) == [Kind.OPENING]


def test_an_adjustment_needs_a_manager_and_a_reason(staff_user, manager_user):
    customer = CustomerFactory(balance=Decimal("80.00"))
    with pytest.raises(ValidationError, match="not allowed"):
        ledger.post(customer, Kind.ADJUSTMENT, amount="-30", note="typo", by=staff_user)
    with pytest.raises(ValidationError):
        ledger.post(customer, Kind.ADJUSTMENT, amount="-30", note=" ", by=manager_user)
    ledger.post(customer, Kind.ADJUSTMENT, amount="-30", note="double top-up on 3 May", by=manager_user)
    customer.refresh_from_db()
    assert customer.balance == Decimal("50.00")
    assert customer.ledger.get(kind=Kind.ADJUSTMENT).note == "double top-up on 3 May"


def test_a_closed_card_takes_no_entries(staff_user):
    customer = CustomerFactory(status=Customer.Status.CLOSED)
    with pytest.raises(ValidationError, match="reinstate it first"):
        ledger.post(customer, Kind.TOP_UP, amount="10", by=staff_user)
    assert not customer.ledger.exists()


def test_the_card_always_equals_the_sum_of_its_entries(staff_user, manager_user):
    customer = CustomerFactory(balance=Decimal("10.00"), points=3)
    other = CustomerFactory()
    ledger.post(customer, Kind.TOP_UP, amount="500", points=50, by=staff_user)
    ledger.post(customer, Kind.SPEND, amount="199.90", by=staff_user)
    ledger.post(customer, Kind.ADJUSTMENT, points=-3, note="expired", by=manager_user)
    cards = {card.pk: card for card in Customer.objects.lock([customer.pk, other.pk])}
    ledger.transfer(cards[customer.pk], cards[other.pk], by=manager_user, note="family card")
    for card in (customer, other):
        card.refresh_from_db()
        assert recount(card) == (card.balance, card.points)
    assert (customer.balance, customer.points, other.balance, other.points) == (0, 0, Decimal("310.10"), 50)
    transfer_in = other.ledger.get(kind=Kind.TRANSFER_IN)
    assert transfer_in.counterpart == customer


def test_a_new_card_with_a_balance_starts_with_an_opening_entry(manager_user):
    from customers import gate

    customer = gate.create_card(
        {"name": "钱多多", "balance": Decimal("88.80"), "points": 5}, by=manager_user, source=gate.FORM
    )
    entry = customer.ledger.get()
    assert (entry.kind, entry.amount, entry.points, entry.balance_after) == (
        Kind.OPENING,
        Decimal("88.80"),
        5,
        Decimal("88.80"),
    )


def test_an_import_writes_opening_entries_and_adjustments(admin_user):
    existing = CustomerFactory(customer_no="C000777", balance=Decimal("20.00"))
    run([("C000777", existing.name, "35.50"), ("C000778", "新客户", "12")], admin_user, name="april.csv")
    existing.refresh_from_db()
    adjustment = existing.ledger.get(kind=Kind.ADJUSTMENT)
    assert (adjustment.amount, adjustment.balance_after, adjustment.note) == (
        Decimal("15.50"),
        Decimal("35.50"),
        "april.csv:2",
    )
    new = Customer.objects.get(customer_no="C000778")
    assert new.ledger.get().kind == Kind.OPENING
    for card in (existing, new):
        card.refresh_from_db()
        assert recount(card) == (card.balance, card.points)


def test_the_migration_opens_a_ledger_for_every_card_holding_money(db):
    holding = CustomerFactory()
    empty = CustomerFactory()
    Customer.objects.filter(pk=holding.pk).update(balance=Decimal("66.60"), points=7)
    migration = importlib.import_module("customers.migrations.0014_ledger")
    with connection.cursor() as cursor:  # what the migration runs
        cursor.execute(migration.OPENING_SQL)
    assert holding.ledger.get().amount == Decimal("66.60")
    assert not empty.ledger.exists()


def test_the_card_page_shows_the_latest_entries_and_staff_record_a_top_up(staff_client):
    customer = CustomerFactory(balance=Decimal("1000.55"))
    page = staff_client.get(reverse("customers:card", args=[customer.pk])).content.decode()
    assert "Opening balance" in page and "Record a balance entry" in page
    form = staff_client.get(reverse("customers:add_ledger_entry", args=[customer.pk])).content.decode()
    assert 'value="top_up"' in form and 'value="adjustment"' not in form  # adjustments need a Manager
    response = staff_client.post(
        reverse("customers:add_ledger_entry", args=[customer.pk]),
        {"kind": "top_up", "amount": "9.45", "method": "wechat"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.balance == Decimal("1010.00")


def test_bad_entries_get_a_message_next_to_the_field(manager_client):
    customer = CustomerFactory(balance=Decimal("5.00"))
    url = reverse("customers:add_ledger_entry", args=[customer.pk])
    page = manager_client.post(url, {"kind": "adjustment", "amount": "-2"}).content.decode()
    assert "Write why the balance or points are adjusted." in page
    page = manager_client.post(url, {"kind": "spend", "amount": "7"}).content.decode()
    assert "this entry would leave it negative" in page
    page = manager_client.post(url, {"kind": "top_up", "amount": "abc"}).content.decode()
    assert "Enter the amount as a number" in page
    customer.refresh_from_db()
    assert customer.balance == Decimal("5.00")
