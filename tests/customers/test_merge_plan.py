"""What merging a duplicate into its surviving card moves (customers.merge): the plan and the moves."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from crm.models import AuditEntry
from customers import merge
from customers.models import Customer, Interaction, LedgerEntry, Purchase
from tests.factories import CustomerFactory, InteractionFactory, PurchaseFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    """A duplicate with purchases, interactions, tags, contact details and money; a survivor with some of its own."""
    vip, wholesale, shared = TagFactory(name="VIP"), TagFactory(name="批发"), TagFactory(name="老客户")
    dup = CustomerFactory(
        phone="+8613900000001",
        email="dup@example.cn",
        wechat="dup_wx",
        company="上海贸易",
        occupation="",
        balance=Decimal("120.50"),
        points=30,
    )
    dup.tags.set([vip, shared])
    survivor = CustomerFactory(phone="+8613900000002", email="", wechat="", company="", city="北京", points=5)
    survivor.tags.set([wholesale, shared])
    today = timezone.localdate()
    PurchaseFactory.create_batch(3, customer=dup, amount=Decimal("100.00"), purchased_on=today - dt.timedelta(days=2))
    PurchaseFactory(customer=survivor, amount=Decimal("50.00"), purchased_on=today - dt.timedelta(days=90))
    InteractionFactory.create_batch(2, customer=dup, occurred_at=timezone.now() - dt.timedelta(hours=1))
    InteractionFactory(customer=survivor, occurred_at=timezone.now() - dt.timedelta(days=60))
    return dup, survivor


def merged(dup, survivor, by):
    with transaction.atomic():
        locked = {card.pk: card for card in Customer.objects.lock([dup.pk, survivor.pk])}
        return merge.merge_into(locked[dup.pk], locked[survivor.pk], by=by)


def test_the_plan_lists_what_moves_and_writes_nothing(pair):
    dup, survivor = pair

    plan = merge.plan(dup, survivor)

    assert (plan.purchases, plan.purchase_total, plan.interactions) == (3, Decimal("300.00"), 2)
    assert plan.tags == ["VIP"]
    assert plan.fields == {"email": "dup@example.cn", "wechat": "dup_wx", "company": "上海贸易"}
    assert (plan.balance, plan.points, plan.moves_money) == (Decimal("120.50"), 30, True)
    assert ("Email", "dup@example.cn") in plan.filled
    assert Purchase.objects.filter(customer=dup).count() == 3
    assert not AuditEntry.objects.filter(action__startswith="customer.merge").exists()


def test_every_purchase_and_interaction_moves_and_none_is_left(pair, staff_user):
    dup, survivor = pair
    purchases, interactions = Purchase.objects.count(), Interaction.objects.count()

    merged(dup, survivor, staff_user)

    assert (Purchase.objects.count(), Interaction.objects.count()) == (purchases, interactions)
    assert not Purchase.objects.filter(customer=dup).exists()
    assert not Interaction.objects.filter(customer=dup).exists()
    assert (survivor.purchases.count(), survivor.interactions.count()) == (4, 3)


def test_the_survivors_figures_equal_a_recount_and_the_duplicates_are_zero(pair, staff_user):
    dup, survivor = pair

    merged(dup, survivor, staff_user)

    survivor.refresh_from_db()
    recount = survivor.purchases.aggregate(n=Count("id"), total=Sum("amount"), last=Max("purchased_on"))
    last_interaction = survivor.interactions.aggregate(last=Max("occurred_at"))["last"]
    assert (survivor.purchase_count, survivor.purchase_total, survivor.last_purchase_on) == (
        recount["n"],
        recount["total"],
        recount["last"],
    )
    assert survivor.purchase_total == Decimal("350.00")
    assert survivor.last_interaction_at == last_interaction
    dup.refresh_from_db()
    assert (dup.purchase_count, dup.purchase_total, dup.last_purchase_on, dup.last_interaction_at) == (
        0,
        Decimal("0.00"),
        None,
        None,
    )


def test_tags_are_unioned_on_the_survivor_and_only_empty_fields_are_filled(pair, staff_user):
    dup, survivor = pair

    merged(dup, survivor, staff_user)

    survivor.refresh_from_db()
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["VIP", "批发", "老客户"]
    assert (survivor.phone, survivor.city) == ("+8613900000002", "北京")  # its own: kept
    assert (survivor.email, survivor.wechat, survivor.company) == ("dup@example.cn", "dup_wx", "上海贸易")
    dup.refresh_from_db()
    assert list(dup.tags.all()) == []
    assert dup.email == "dup@example.cn"  # the duplicate keeps its own details


def test_a_filled_phone_is_searchable_by_its_last_digits(staff_user):
    dup, survivor = CustomerFactory(phone="+8613912345678"), CustomerFactory(phone="")

    merged(dup, survivor, staff_user)

    survivor.refresh_from_db()
    assert survivor.phone_rev == "8765432193168"


def test_balance_and_points_move_as_one_transfer_recorded_on_both_ledgers(pair, staff_user):
    dup, survivor = pair

    result = merged(dup, survivor, staff_user)

    dup.refresh_from_db()
    survivor.refresh_from_db()
    assert (dup.balance, dup.points) == (Decimal("0.00"), 0)
    assert (survivor.balance, survivor.points) == (Decimal("120.50"), 35)
    out = LedgerEntry.objects.get(customer=dup, kind="transfer_out")
    into = LedgerEntry.objects.get(customer=survivor, kind="transfer_in")
    assert (out.kind, out.amount, out.points, out.counterpart_id) == (
        "transfer_out",
        Decimal("-120.50"),
        -30,
        survivor.pk,
    )
    assert (into.kind, into.amount, into.points, into.counterpart_id) == ("transfer_in", Decimal("120.50"), 30, dup.pk)
    assert result.transfer == (out, into)


def test_no_transfer_when_the_duplicate_holds_no_money(staff_user):
    dup, survivor = CustomerFactory(), CustomerFactory()

    result = merged(dup, survivor, staff_user)

    assert result.transfer is None
    assert not LedgerEntry.objects.filter(kind__startswith="transfer").exists()


def test_each_card_gets_one_entry_saying_what_moved_and_from_or_to_which_card(pair, staff_user):
    dup, survivor = pair

    merged(dup, survivor, staff_user)

    into = AuditEntry.objects.get(action="customer.merge_in")
    out = AuditEntry.objects.get(action="customer.merge_out")
    assert (into.customer_id, into.data["merged_from"]) == (survivor.pk, dup.customer_no)
    assert (out.customer_id, out.data["merged_into"]) == (dup.pk, survivor.customer_no)
    assert into.data["moved"] == out.data["moved"]
    assert into.data["moved"]["purchases"] == 3
    assert into.data["moved"]["interactions"] == 2
    assert into.data["moved"]["tags"] == ["VIP"]
    assert into.changes["email"][-1] == "dup@example.cn"
    assert into.changes["purchase_count"][-1] == 4
    assert into.changes["tags"] == ["批发, 老客户", "VIP, 批发, 老客户"]
    assert out.changes["tags"] == ["VIP, 老客户", ""]


@pytest.mark.parametrize("who", ["duplicate", "survivor"])
def test_a_card_that_is_not_active_refuses_the_merge(who):
    dup, survivor = CustomerFactory(), CustomerFactory()
    PurchaseFactory(customer=dup)
    Customer.objects.filter(pk=(dup if who == "duplicate" else survivor).pk).update(status="void")

    with pytest.raises(ValidationError, match="reinstate it first"):
        merged(dup, survivor, UserFactory())

    assert Purchase.objects.get().customer_id == dup.pk


def test_a_card_cannot_be_merged_into_itself(staff_user):
    card = CustomerFactory()
    with transaction.atomic():
        (locked,) = Customer.objects.lock([card.pk])
        with pytest.raises(ValidationError, match="cannot be merged into itself"):
            merge.merge_into(locked, locked, by=staff_user)
