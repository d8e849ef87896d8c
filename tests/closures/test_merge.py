"""Voiding a duplicate and merging it into the surviving card (合并): operation, pages, approval, reinstating."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Sum
from django.urls import reverse

from closures import operations
from closures.models import Closure, ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from crm.models import AuditEntry
from customers.models import Customer, CustomerQuerySet, Interaction, LedgerEntry, Purchase
from tests.factories import (
    ClosureReasonFactory,
    CustomerFactory,
    InteractionFactory,
    PurchaseFactory,
    TagFactory,
    UserFactory,
)

from .steps import card_url, confirm, messages_of, reason, start_url, token_of
from .test_under_pressure import run_together, slow_lock_holder  # noqa: F401 (a fixture)


def merge_into(survivor, **kwargs) -> ClosureChoice:
    return ClosureChoice("void", reason("duplicate"), duplicate_of=survivor.pk, merge=True, **kwargs)


@pytest.fixture
def cards(db):
    """C000123, a duplicate with 3 purchases, 2 interactions, a tag and money, of C000124 (one purchase)."""
    dup = CustomerFactory(customer_no="C000123", email="dup@example.cn", balance=Decimal("80.00"), points=12)
    survivor = CustomerFactory(customer_no="C000124", email="")
    dup.tags.set([TagFactory(name="VIP")])
    PurchaseFactory.create_batch(3, customer=dup, amount=Decimal("100.00"))
    PurchaseFactory(customer=survivor, amount=Decimal("40.00"))
    InteractionFactory.create_batch(2, customer=dup)
    return dup, survivor


def preview_merge(client, dup, survivor, *, merge=True):
    data = {"reason": reason("duplicate").pk, "notes": "", "duplicate_of": survivor.customer_no}
    if merge:
        data["merge"] = "on"
    return client.post(start_url(dup, "void"), data)


# --- The operation -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_voiding_with_merge_moves_every_purchase_and_interaction_and_voids_the_duplicate(cards, manager_user):
    dup, survivor = cards
    before = (Purchase.objects.count(), Interaction.objects.count())

    closure = operations.close_customer(dup, merge_into(survivor), by=manager_user)

    assert (Purchase.objects.count(), Interaction.objects.count()) == before
    assert not Purchase.objects.filter(customer=dup).exists()
    assert not Interaction.objects.filter(customer=dup).exists()
    dup.refresh_from_db()
    assert dup.status == "void"
    assert (closure.merged, closure.duplicate_of_id) == (True, survivor.pk)


@pytest.mark.django_db
def test_the_survivors_totals_equal_a_recount_after_the_merge(cards, manager_user):
    dup, survivor = cards

    operations.close_customer(dup, merge_into(survivor), by=manager_user)

    survivor.refresh_from_db()
    recount = Purchase.objects.filter(customer=survivor).aggregate(
        n=Count("id"), total=Sum("amount"), last=Max("purchased_on")
    )
    assert (survivor.purchase_count, survivor.purchase_total, survivor.last_purchase_on) == (
        4,
        Decimal("340.00"),
        recount["last"],
    )
    assert (recount["n"], recount["total"]) == (4, Decimal("340.00"))
    assert (
        survivor.last_interaction_at
        == Interaction.objects.filter(customer=survivor).aggregate(m=Max("occurred_at"))["m"]
    )
    assert list(survivor.tags.values_list("name", flat=True)) == ["VIP"]
    assert survivor.email == "dup@example.cn"


@pytest.mark.django_db
def test_the_money_moves_as_a_transfer_which_settles_it_without_a_settlement_note(cards, manager_user):
    dup, survivor = cards

    closure = operations.close_customer(dup, merge_into(survivor), by=manager_user)

    dup.refresh_from_db()
    survivor.refresh_from_db()
    assert (dup.balance, dup.points, survivor.balance, survivor.points) == (Decimal("0.00"), 0, Decimal("80.00"), 12)
    assert LedgerEntry.objects.filter(customer=dup, kind="transfer_out", counterpart=survivor).count() == 1
    assert LedgerEntry.objects.filter(customer=survivor, kind="transfer_in", counterpart=dup).count() == 1
    # The closure records what the card held and that the merge's transfer settled it.
    assert (closure.balance_at_closure, closure.points_at_closure) == (Decimal("80.00"), 12)
    assert (closure.settlement, closure.settled_to, closure.settled_amount) == ("transfer", survivor, Decimal("80.00"))


@pytest.mark.django_db
def test_voiding_a_duplicate_without_merge_still_needs_the_money_settled_and_moves_nothing(cards, manager_user):
    dup, survivor = cards
    choice = ClosureChoice("void", reason("duplicate"), duplicate_of=survivor.pk)

    with pytest.raises(ValidationError, match="choose how they are settled"):
        operations.close_customer(dup, choice, by=manager_user)
    operations.close_customer(
        dup,
        ClosureChoice(
            "void", reason("duplicate"), duplicate_of=survivor.pk, settlement="refund", settlement_method="cash"
        ),
        by=manager_user,
    )

    assert Purchase.objects.filter(customer=dup).count() == 3
    assert not Closure.objects.get().merged


@pytest.mark.django_db
def test_merge_without_a_surviving_card_is_refused(cards, manager_user):
    dup, _survivor = cards
    wrong = ClosureReasonFactory(code="wrong-entry", category="data_error", for_void=True)

    with pytest.raises(ValidationError, match="Only a record voided as a duplicate"):
        operations.close_customer(dup, ClosureChoice("void", wrong, merge=True), by=manager_user)

    assert Purchase.objects.filter(customer=dup).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["closed", "void", "archived"])
def test_a_survivor_no_longer_active_refuses_the_merge_and_moves_nothing(cards, manager_user, status):
    dup, survivor = cards
    Customer.objects.filter(pk=survivor.pk).update(status=status)

    with pytest.raises(ValidationError, match="The surviving card C000124 is .*, not active"):
        operations.close_customer(dup, merge_into(survivor), by=manager_user)

    dup.refresh_from_db()
    assert (dup.status, dup.balance) == ("active", Decimal("80.00"))
    assert Purchase.objects.filter(customer=dup).count() == 3
    assert not AuditEntry.objects.filter(action__startswith="customer.merge").exists()


@pytest.mark.django_db
def test_both_cards_histories_say_what_moved(cards, manager_user):
    dup, survivor = cards

    operations.close_customer(dup, merge_into(survivor), by=manager_user)

    into = AuditEntry.objects.get(action="customer.merge_in")
    out = AuditEntry.objects.get(action="customer.merge_out")
    assert (into.customer_id, into.data["merged_from"]) == (survivor.pk, "C000123")
    assert (out.customer_id, out.data["merged_into"]) == (dup.pk, "C000124")
    assert into.data["moved"] == {
        "purchases": 3,
        "purchase_total": "300.00",
        "interactions": 2,
        "tags": ["VIP"],
        "fields": ["email"],
        "balance": "80.00",
        "points": 12,
    }
    assert AuditEntry.objects.get(action="closure.void").data["merged"] is True


@pytest.mark.django_db
def test_the_merge_takes_no_lock_of_its_own_beyond_the_operations_one(cards, manager_user, monkeypatch):
    """Both cards are locked once, together, in primary-key order (Customer.objects.lock): no deadlock."""
    dup, survivor = cards
    calls = []
    original = CustomerQuerySet.lock

    def spy(self, ids):
        ids = list(ids)
        calls.append(ids)
        return original(self, ids)

    monkeypatch.setattr(CustomerQuerySet, "lock", spy)
    operations.close_customer(dup, merge_into(survivor), by=manager_user)

    assert [sorted(set(filter(None, ids))) for ids in calls] == [sorted([dup.pk, survivor.pk])]


# --- Approval ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_carries_the_merge_and_approving_performs_it(cards, staff_user, manager_user):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    dup, survivor = cards

    pending = operations.confirm_closure(dup, merge_into(survivor), by=staff_user)

    assert isinstance(pending, ClosureRequest) and pending.merge
    assert Purchase.objects.filter(customer=dup).count() == 3  # nothing moves while it waits
    closure = operations.approve(pending, by=manager_user)
    assert closure.merged
    assert not Purchase.objects.filter(customer=dup).exists()
    assert Purchase.objects.filter(customer=survivor).count() == 4


# --- Reinstating ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reinstating_a_merged_record_moves_nothing_back(cards, manager_client, manager_user):
    dup, survivor = cards
    operations.close_customer(dup, merge_into(survivor), by=manager_user)

    page = manager_client.get(reverse("closures:reinstate", kwargs={"pk": dup.pk})).content.decode()
    assert "reinstating it does not move anything back" in page
    assert "Transferred ¥80.00 and 12 points to C000124 on " in page  # the merge's transfer, in words
    operations.reinstate(dup, by=manager_user, note="误操作")

    dup.refresh_from_db()
    assert dup.status == "active"
    assert (dup.purchase_count, dup.balance) == (0, Decimal("0.00"))
    assert not Purchase.objects.filter(customer=dup).exists()
    assert Purchase.objects.filter(customer=survivor).count() == 4


# --- The pages -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_start_page_offers_the_merge_ticked(cards, staff_client):
    dup, _survivor = cards
    page = staff_client.get(start_url(dup, "void")).content.decode()

    assert "Merge this record into the surviving card" in page
    assert re.search(r'<input type="checkbox" name="merge"[^>]*checked', page)
    assert 'name="merge"' not in staff_client.get(start_url(dup, "close")).content.decode()


@pytest.mark.django_db
def test_the_preview_lists_exactly_what_will_move(cards, manager_client):
    dup, survivor = cards

    page = preview_merge(manager_client, dup, survivor)

    text = re.sub(r"\s+", " ", page.content.decode())
    assert "3 purchases (300.00)" in text
    assert "2 interactions" in text
    assert "VIP" in text
    assert "Email: dup@example.cn" in text
    assert "80.00 and 12 points" in text
    assert "Reinstating this record later will not move anything back." in text
    assert 'name="settlement_note"' not in text  # the transfer settles the money
    assert Purchase.objects.filter(customer=dup).count() == 3  # nothing changes before "Confirm"


@pytest.mark.django_db
def test_confirming_the_preview_merges_and_the_cards_say_so(cards, manager_client):
    dup, survivor = cards
    page = preview_merge(manager_client, dup, survivor)

    response = confirm(manager_client, dup, "void", token_of(page))

    assert messages_of(response) == ["Record C000123 was voided."]
    assert Purchase.objects.filter(customer=survivor).count() == 4
    void_card = re.sub(r"\s+", " ", manager_client.get(card_url(dup)).content.decode())
    assert re.search(r'Merged into <a href="/customers/\d+/">C000124</a> on .* by ', void_card)
    survivor_card = manager_client.get(card_url(survivor)).content.decode()
    assert "Merged from C000123" in survivor_card


@pytest.mark.django_db
def test_unticking_merge_voids_without_moving(cards, manager_client):
    dup, survivor = cards
    page = preview_merge(manager_client, dup, survivor, merge=False)
    assert "what moves" not in page.content.decode()

    confirm(manager_client, dup, "void", token_of(page), settlement="refund", settlement_method="cash")

    dup.refresh_from_db()
    assert dup.status == "void"
    assert Purchase.objects.filter(customer=dup).count() == 3


# --- PostgreSQL: two duplicates merged into each other at once ------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_cards_merged_into_each_other_at_once_leave_one_card_with_every_purchase(slow_lock_holder):  # noqa: F811
    dup = ClosureReasonFactory(code="race-duplicate", category="duplicate", for_void=True)
    li = UserFactory(username="li_mgr", role="Manager")
    wang = UserFactory(username="wang_mgr", role="Manager")
    first, second = CustomerFactory(), CustomerFactory()
    PurchaseFactory.create_batch(2, customer=first)
    PurchaseFactory.create_batch(3, customer=second)

    results = run_together(
        lambda: operations.close_customer(
            first.pk, ClosureChoice("void", dup.pk, duplicate_of=second.pk, merge=True), by=li
        ),
        lambda: operations.close_customer(
            second.pk, ClosureChoice("void", dup.pk, duplicate_of=first.pk, merge=True), by=wang
        ),
    )

    assert sum(isinstance(r, Closure) for r in results) == 1, results
    assert all(isinstance(r, Closure | ValidationError) for r in results), results  # not a deadlock
    (active,) = Customer.objects.filter(status="active")
    assert Purchase.objects.filter(customer=active).count() == 5


@pytest.mark.django_db
def test_the_manager_deciding_a_merge_request_sees_what_will_move(cards, staff_user, manager_client):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    dup, survivor = cards
    pending = operations.confirm_closure(dup, merge_into(survivor), by=staff_user)

    page = manager_client.get(reverse("closures:request_decide", kwargs={"pk": pending.pk})).content.decode()

    text = re.sub(r"\s+", " ", page)
    assert "Approving moves the duplicate's records onto the surviving card." in text
    assert "3 purchases (300.00)" in text
