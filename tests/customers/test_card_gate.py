"""The card gate (customers/gate.py): the one way a card's fields change.

Every path that changes a card — the card form, import, purchases, interactions, later features —
goes through it, so its rules hold everywhere: only active cards change, a stale edit is refused,
only Managers and Admins touch money, customer numbers have one canonical form, and each change
leaves one audit entry on the card naming its source.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import AuditEntry
from customers import gate
from customers.models import Customer, Interaction, Purchase
from customers.numbers import clean_customer_no, normalise_customer_no
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

NOT_ACTIVE = [
    (Customer.Status.CLOSED, "Card C000123 is closed: reinstate it first to change it."),
    (Customer.Status.VOID, "Card C000123 is void: reinstate it first to change it."),
    (Customer.Status.ARCHIVED, "Card C000123 is archived: reinstate it first to change it."),
    (Customer.Status.ERASED, "The personal data of card C000123 was deleted; the card can never be changed again."),
]


def _purchase(customer, by):
    return gate.record_purchase(
        customer, by=by, product="茶叶", quantity=1, amount=Decimal("10"), purchased_on=timezone.localdate()
    )


def _interaction(customer, by):
    return gate.record_interaction(customer, by=by, kind="call", occurred_at=timezone.now(), summary="回访")


WRITES = {
    "update": lambda customer, by: gate.update_card(customer, {"name": "改名"}, by=by, source=gate.FORM),
    "purchase": _purchase,
    "interaction": _interaction,
}


@pytest.mark.parametrize(("status", "message"), NOT_ACTIVE)
@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_gate_write_refuses_a_card_that_is_not_active(manager_user, status, message, write):
    customer = CustomerFactory(customer_no="C000123", name="原名", status=status)
    with pytest.raises(ValidationError) as refused:
        WRITES[write](customer, manager_user)
    assert refused.value.messages == [message]
    customer.refresh_from_db()
    assert customer.name == "原名" and customer.purchase_count == 0
    assert not Purchase.objects.exists() and not Interaction.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_gate_reads_the_status_under_its_lock_not_from_the_callers_copy(manager_user):
    customer = CustomerFactory(name="原名")
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.CLOSED)  # closed meanwhile
    assert customer.status == Customer.Status.ACTIVE
    with pytest.raises(ValidationError, match="reinstate it first"):
        gate.update_card(customer, {"name": "改名"}, by=manager_user, source=gate.FORM)
    assert Customer.objects.get(pk=customer.pk).name == "原名"


def test_an_update_writes_only_what_changed_with_one_audit_entry_naming_its_source(manager_user):
    owner = CustomerFactory().owner
    customer = CustomerFactory(name="刘洋", city="上海", owner=owner)
    customer.tags.add(TagFactory(name="门店"))
    change = gate.update_card(
        customer,
        {"name": "刘洋", "city": "杭州", "tags": ["门店", "VIP"]},
        by=manager_user,
        source=gate.Source("import", "april.csv", 7),
    )
    assert change.changes == {"city": ["上海", "杭州"], "tags": ["门店", "VIP, 门店"]}
    customer.refresh_from_db()
    assert customer.city == "杭州"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "门店"]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.customer_id, entry.actor) == ("customer.update", customer.pk, manager_user)
    assert entry.changes == change.changes
    assert entry.data == {"source": {"kind": "import", "file": "april.csv", "line": 7}}


def test_an_update_that_changes_nothing_writes_nothing(manager_user):
    customer = CustomerFactory(city="上海")
    before = customer.updated_at
    change = gate.update_card(customer, {"city": "上海"}, by=manager_user, source=gate.FORM)
    assert change.changes == {}
    assert not AuditEntry.objects.exists()
    customer.refresh_from_db()
    assert customer.updated_at == before


def test_an_edit_of_an_older_version_of_the_card_is_refused(manager_user):
    customer = CustomerFactory(city="上海")
    seen = customer.updated_at.isoformat()
    gate.update_card(customer, {"city": "北京"}, by=manager_user, source=gate.FORM)
    with pytest.raises(ValidationError, match="Someone else changed this card after you opened it"):
        gate.update_card(customer, {"city": "杭州"}, by=manager_user, source=gate.FORM, seen=seen)
    customer.refresh_from_db()
    assert customer.city == "北京"


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_nobody_sets_balance_or_points_through_the_gate(role, request):
    """Balance and points are a ledger: an update that sets them is refused, whoever asks."""
    user = request.getfixturevalue(f"{role}_user")
    customer = CustomerFactory(balance=Decimal("88.00"), points=5)
    for change in ({"balance": Decimal("0")}, {"points": 0}):
        with pytest.raises(ValidationError, match="only through balance entries"):
            gate.update_card(customer, change, by=user, source=gate.FORM)
    customer.refresh_from_db()
    assert (customer.balance, customer.points) == (Decimal("88.00"), 5)
    gate.update_card(customer, {"city": "杭州", "balance": Decimal("88.00")}, by=user, source=gate.FORM)
    assert Customer.objects.get(pk=customer.pk).city == "杭州"


def test_users_without_the_change_permission_are_refused(outsider_user):
    customer = CustomerFactory(city="上海")
    with pytest.raises(ValidationError, match="not allowed"):
        gate.update_card(customer, {"city": "杭州"}, by=outsider_user, source=gate.FORM)


def test_a_created_card_gets_a_number_and_an_audit_entry_with_its_values(staff_user, fresh_numbers):
    customer = gate.create_card({"name": "王芳", "city": "上海"}, by=staff_user, source=gate.FORM)
    assert customer.customer_no == "C000001"
    entry = AuditEntry.objects.get()
    assert entry.action == "customer.create"
    assert entry.changes["name"] == [None, "王芳"] and entry.changes["city"] == [None, "上海"]


# --- customer numbers: one identity whatever the case -----------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("c000123", "C000123"),
        ("  case-0005 ", "CASE-0005"),
        ("Ｃ０００１２３", "C000123"),
        ("tel-0002-orfbo", "TEL-0002-ORFBO"),
    ],
)
def test_numbers_are_stored_in_one_canonical_form(typed, stored):
    assert normalise_customer_no(typed) == stored
    assert clean_customer_no(typed) == stored


@pytest.mark.parametrize("typed", ["C 123", "会员1", "-C1", "C" * 33])
def test_numbers_outside_the_rule_are_refused_with_a_message(typed):
    with pytest.raises(ValidationError):
        clean_customer_no(typed)


def test_a_number_that_differs_only_by_case_is_the_same_card(staff_user):
    CustomerFactory(customer_no="CASE-0005")
    with pytest.raises(ValidationError) as refused:
        gate.create_card({"customer_no": "case-0005", "name": "x"}, by=staff_user, source=gate.FORM)
    assert refused.value.message_dict == {"customer_no": ["Customer number CASE-0005 is already used by another card."]}
    assert Customer.objects.count() == 1


def test_the_database_refuses_two_numbers_that_differ_only_by_case():
    CustomerFactory(customer_no="BRK-0005")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(customer_no="brk-0005", name="x")


def test_renaming_a_card_to_another_cards_number_is_refused(manager_user):
    CustomerFactory(customer_no="C000001")
    customer = CustomerFactory(customer_no="C000002")
    with pytest.raises(ValidationError) as refused:
        gate.update_card(customer, {"customer_no": "c000001"}, by=manager_user, source=gate.FORM)
    assert "customer_no" in refused.value.message_dict
    assert Customer.objects.get(pk=customer.pk).customer_no == "C000002"


def test_purchases_and_interactions_keep_the_cards_figures_and_are_audited(staff_user):
    customer = CustomerFactory()
    day = timezone.localdate() - dt.timedelta(days=3)
    gate.record_purchase(customer, by=staff_user, product="茶叶", quantity=2, amount=Decimal("50"), purchased_on=day)
    _interaction(customer, staff_user)
    customer.refresh_from_db()
    assert (customer.purchase_count, customer.purchase_total, customer.last_purchase_on) == (1, Decimal("50"), day)
    assert customer.last_interaction_at is not None
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == ["interaction.create", "purchase.create"]


def test_retyping_a_tag_in_another_case_changes_nothing(manager_user):
    customer = CustomerFactory()
    customer.tags.add(TagFactory(name="VIP"))
    change = gate.update_card(customer, {"tags": ["vip"]}, by=manager_user, source=gate.FORM)
    assert change.changes == {}
    assert not AuditEntry.objects.exists()
