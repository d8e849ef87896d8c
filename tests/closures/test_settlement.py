"""A card with money is closed only with its balance and points settled: refunded, transferred,
forfeited or (archive only) kept, written to the ledger; reinstating brings none of it back."""

import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics import exports
from analytics.filters import ClosureFilter
from closures import erasure, operations, rules
from closures.models import Closure, ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from crm.models import AuditEntry
from customers import ledger
from customers.models import Customer, LedgerEntry
from tests.factories import CustomerFactory

from .steps import close_through_pages, reason

pytestmark = pytest.mark.django_db


def card(balance="1000.55", points=0, **kwargs) -> Customer:
    return CustomerFactory(balance=Decimal(balance), points=points, **kwargs)


def close(customer, by, action="close", code="customer-request", **settled) -> Closure:
    return operations.close_customer(customer, ClosureChoice(action, reason(code), **settled), by=by)


def kinds(customer) -> list[tuple[str, Decimal, int, str]]:
    entries = LedgerEntry.objects.filter(customer=customer).exclude(kind="opening").order_by("id")
    return [(e.kind, e.amount, e.points, e.method) for e in entries]


def test_a_full_cash_refund_leaves_the_card_at_zero_with_a_refund_entry(manager_user):
    customer = card()
    closure = close(customer, manager_user, settlement="refund", settlement_method="cash")

    customer.refresh_from_db()
    assert (customer.status, customer.balance, customer.points) == ("closed", Decimal("0.00"), 0)
    assert kinds(customer) == [("refund", Decimal("-1000.55"), 0, "cash")]
    closure.refresh_from_db()
    assert (closure.balance_at_closure, closure.settlement, closure.settlement_method) == (
        Decimal("1000.55"),
        "refund",
        "cash",
    )
    assert closure.settled_amount == Decimal("1000.55")


def test_a_refund_forfeits_the_points_and_a_partial_one_needs_why_the_rest_is_forfeited(manager_user):
    customer = card("100.00", points=40)
    with pytest.raises(ValidationError, match="Only ¥60.00 of ¥100.00 is refunded: write why the rest, ¥40.00"):
        close(customer, manager_user, settlement="refund", settlement_method="wechat", refund_amount=Decimal("60"))
    assert kinds(customer) == []

    close(
        customer,
        manager_user,
        settlement="refund",
        settlement_method="wechat",
        refund_amount=Decimal("60"),
        forfeit_reason="赠送金额不退",
    )
    customer.refresh_from_db()
    assert (customer.balance, customer.points) == (Decimal("0.00"), 0)
    assert kinds(customer) == [("refund", Decimal("-60.00"), 0, "wechat"), ("forfeit", Decimal("-40.00"), -40, "")]
    assert LedgerEntry.objects.get(customer=customer, kind="forfeit").note == "赠送金额不退"


def test_a_refund_needs_a_method_and_at_most_the_balance(manager_user):
    customer = card("50.00")
    with pytest.raises(ValidationError, match="Choose how the refund is paid."):
        close(customer, manager_user, settlement="refund")
    with pytest.raises(ValidationError, match="at most the balance, ¥50.00"):
        close(customer, manager_user, settlement="refund", settlement_method="cash", refund_amount=Decimal("50.01"))
    customer.refresh_from_db()
    assert (customer.status, customer.balance) == ("active", Decimal("50.00"))


def test_a_transfer_locks_both_cards_in_key_order_and_moves_balance_and_points(manager_user):
    target, customer = card("5.00", points=1), card("200.00", points=300)
    with mock.patch.object(rules, "lock_cards", wraps=rules.lock_cards) as locking:
        close(customer, manager_user, settlement="transfer", settle_to=target.pk)

    locked = [getattr(c, "pk", c) for c in locking.call_args.args[0] if c is not None]
    assert sorted(locked) == sorted([customer.pk, target.pk])
    customer.refresh_from_db()
    target.refresh_from_db()
    assert (customer.balance, customer.points) == (Decimal("0.00"), 0)
    assert (target.balance, target.points) == (Decimal("205.00"), 301)
    out = LedgerEntry.objects.get(customer=customer, kind="transfer_out")
    assert (out.kind, out.counterpart_id) == ("transfer_out", target.pk)
    assert Closure.objects.get(customer=customer).settled_to == target


def test_a_transfer_needs_another_active_card(manager_user):
    customer, closed = card("10.00"), card("0.00", status="closed")
    with pytest.raises(ValidationError, match="cannot transfer its balance to itself"):
        close(customer, manager_user, settlement="transfer", settle_to=customer.pk)
    with pytest.raises(ValidationError, match=f"Card {closed.customer_no} is closed, not active"):
        close(customer, manager_user, settlement="transfer", settle_to=closed.pk)
    with pytest.raises(ValidationError, match="Give the customer number of the card that receives"):
        close(customer, manager_user, settlement="transfer")
    assert kinds(customer) == []


def test_forfeiting_needs_a_reason(manager_user):
    customer = card("10.00", points=5)
    with pytest.raises(ValidationError, match="Write why the balance and points are forfeited."):
        close(customer, manager_user, settlement="forfeit", forfeit_reason="  ")
    close(customer, manager_user, settlement="forfeit", forfeit_reason="客户放弃")
    assert kinds(customer) == [("forfeit", Decimal("-10.00"), -5, "")]


def test_only_an_archived_card_may_keep_its_balance(manager_user):
    customer = card("10.00")
    with pytest.raises(ValidationError, match="Only an archived card may keep its balance"):
        close(customer, manager_user, settlement="keep")
    closure = close(customer, manager_user, action="archive", code="long-inactive", settlement="keep")
    customer.refresh_from_db()
    assert (customer.status, customer.balance) == ("archived", Decimal("10.00"))
    assert (closure.settlement, kinds(customer)) == ("keep", [])


def test_a_card_with_money_and_no_settlement_is_refused_next_to_the_settlement_field(staff_client):
    customer = card("12.00")
    page = close_through_pages(staff_client, customer, "close", reason=reason("customer-request"))
    assert page.status_code == 200
    assert page.context["form"].errors["settlement"] == [
        "This card still has a balance of ¥12.00 and 0 points: choose how they are settled "
        "(refunded, transferred to another card or forfeited)."
    ]
    customer.refresh_from_db()
    assert (customer.status, customer.balance) == ("active", Decimal("12.00"))


def test_a_transfer_through_the_pages_names_the_receiving_card_by_number(staff_client):
    customer, target = card("12.00"), card("0.00")
    refused = close_through_pages(
        staff_client, customer, "close", reason=reason("customer-request"), settlement="transfer", settle_to="X999"
    )
    assert "No card has the customer number X999." in refused.context["form"].errors["settle_to"][0]
    done = close_through_pages(
        staff_client,
        customer,
        "close",
        reason=reason("customer-request"),
        settlement="transfer",
        settle_to=target.customer_no,
    )
    assert done.status_code == 302
    target.refresh_from_db()
    assert target.balance == Decimal("12.00")


def test_approving_a_request_applies_the_settlement_it_stored(staff_user, manager_user, admin_user):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    customer = card("88.80")
    pending = operations.confirm_closure(
        customer,
        ClosureChoice("close", reason("customer-request"), settlement="refund", settlement_method="alipay"),
        by=staff_user,
    )
    assert isinstance(pending, ClosureRequest)
    customer.refresh_from_db()
    assert (customer.balance, pending.settlement, pending.settlement_method) == (Decimal("88.80"), "refund", "alipay")

    operations.approve(pending, by=manager_user)
    customer.refresh_from_db()
    assert (customer.status, customer.balance) == ("closed", Decimal("0.00"))
    assert kinds(customer) == [("refund", Decimal("-88.80"), 0, "alipay")]
    assert Closure.objects.get(customer=customer).requested_by == staff_user


def test_reinstating_brings_no_money_back_and_the_page_says_why(manager_user, manager_client):
    customer = card()
    close(customer, manager_user, settlement="refund", settlement_method="cash")

    page = manager_client.get(reverse("closures:reinstate", kwargs={"pk": customer.pk})).content.decode()
    assert "Refunded ¥1,000.55 in cash on " in page
    assert "Reinstating does not bring this money back" in page
    operations.reinstate(customer, by=manager_user, note="客户回来了")
    customer.refresh_from_db()
    assert (customer.status, customer.balance) == ("active", Decimal("0.00"))
    assert kinds(customer) == [("refund", Decimal("-1000.55"), 0, "cash")]


def test_erasing_an_archived_card_that_kept_its_balance_settles_it(manager_user, admin_user):
    customer = card("25.00", points=7)
    ledger.post(customer, "adjustment", amount="5", note="王女士来电补差价", by=manager_user)
    close(customer, manager_user, action="archive", code="long-inactive", settlement="keep")
    choice = ClosureChoice("erase", reason("erasure-request"))
    with pytest.raises(ValidationError, match="choose how they are settled"):
        erasure.erase_customer(customer, choice, by=admin_user, confirmation=customer.customer_no)
    with pytest.raises(ValidationError, match="Only an archived card may keep its balance"):
        erasure.erase_customer(
            customer,
            ClosureChoice("erase", reason("erasure-request"), settlement="keep"),
            by=admin_user,
            confirmation=customer.customer_no,
        )

    erasure.erase_customer(
        customer,
        ClosureChoice("erase", reason("erasure-request"), settlement="forfeit", forfeit_reason="无法联系"),
        by=admin_user,
        confirmation=customer.customer_no,
    )
    customer.refresh_from_db()
    assert (customer.status, customer.balance, customer.points) == ("erased", Decimal("0.00"), 0)
    closure = Closure.objects.get(customer=customer)
    assert (closure.action, closure.settlement, closure.settled_amount) == ("archive", "forfeit", Decimal("30.00"))
    # What people typed on its balance entries goes with the personal data; the amounts stay.
    assert list(customer.ledger.exclude(note="").values_list("note", flat=True)) == []
    assert customer.ledger.get(kind="forfeit").amount == Decimal("-30.00")
    assert not AuditEntry.objects.filter(notes__contains="王女士来电补差价").exists()


def test_the_export_row_carries_the_money_at_closure_and_the_settlement(manager_user):
    customer, target = card(), card("0.00")
    close(customer, manager_user, settlement="refund", settlement_method="cash")
    other = card("9.00", points=2)
    close(other, manager_user, settlement="transfer", settle_to=target.pk)

    out = io.BytesIO()
    exports.write_xlsx(ClosureFilter({}, today=timezone.localdate()), out)
    sheet = load_workbook(io.BytesIO(out.getvalue()))["Closures"]
    header = [c.value for c in sheet[1]]
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    refunded, transferred = rows[customer.customer_no], rows[other.customer_no]
    assert (refunded["Balance at closure"], refunded["Settlement"], refunded["Settled amount"]) == (
        1000.55,
        "refunded, cash",
        1000.55,
    )
    assert (transferred["Points at closure"], transferred["Settlement"]) == (2, f"transferred to {target.customer_no}")


def test_bulk_closing_shows_the_totals_it_settles_and_refunds_each_card(manager_client):
    from .test_bulk_rules import bulk_confirm, bulk_preview

    cards = [card("100.50", points=10), card("20.00"), card("0.00")]
    transfer = bulk_preview(manager_client, cards, settlement="transfer")
    assert "settlement" in transfer.context["form"].errors
    preview = bulk_preview(manager_client, cards, settlement="refund", settlement_method="bank")
    page = preview.content.decode()
    assert "2 of these cards hold a balance or points: 120.50 and 10 points in all, settled as refunded, bank" in page

    result = bulk_confirm(manager_client, preview.context["token"]).context["result"]
    assert (len(result.done), result.skipped) == (3, [])
    assert kinds(cards[0]) == [("refund", Decimal("-100.50"), 0, "bank"), ("forfeit", Decimal("0.00"), -10, "")]
    assert kinds(cards[1]) == [("refund", Decimal("-20.00"), 0, "bank")]
    assert (
        list(Customer.objects.filter(pk__in=[c.pk for c in cards]).values_list("balance", flat=True))
        == [Decimal("0.00")] * 3
    )
    assert Closure.objects.get(customer=cards[1]).settlement == "refund"


def test_bulk_closing_without_a_settlement_skips_cards_with_money_saying_why(manager_user):
    from closures import bulk

    rich, poor = card("5.00"), card("0.00")
    result = bulk.bulk_close([rich.pk, poor.pk], ClosureChoice("close", reason("service")), by=manager_user)
    assert [c.customer for c in result.done] == [poor]
    assert result.skipped[0][1].startswith("This card still has a balance of ¥5.00")
    with pytest.raises(ValidationError, match="Balances cannot be transferred in bulk"):
        bulk.bulk_close([rich.pk], ClosureChoice("close", reason("service"), settlement="transfer"), by=manager_user)
