"""Void as duplicate locks the surviving card too; every operation locks cards in primary-key order.

The race tests need PostgreSQL (real row locks between real connections); see test_under_pressure.py.
"""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closures import operations, rules
from closures.models import Closure, ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from customers.models import Customer
from tests.factories import ClosureReasonFactory, CustomerFactory, UserFactory

from .steps import confirm, messages_of, preview, reason, token_of
from .test_under_pressure import on_postgres, run_together, slow_lock_holder  # noqa: F401 (a fixture)


def void_as_duplicate_of(survivor, dup_reason) -> ClosureChoice:
    return ClosureChoice("void", dup_reason, duplicate_of=survivor.pk)


def for_update_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]


# --- Every database --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "shown"), [("closed", "closed"), ("void", "void"), ("erased", "erased")])
def test_a_survivor_no_longer_active_at_confirmation_is_refused_by_number(staff_client, status, shown):
    card, survivor = CustomerFactory(), CustomerFactory(customer_no="S000001")
    page = preview(staff_client, card, "void", reason=reason("duplicate"), duplicate_of="S000001")
    Customer.objects.filter(pk=survivor.pk).update(status=status)

    response = confirm(staff_client, card, "void", token_of(page))

    assert messages_of(response) == [
        f"The surviving card S000001 is {shown}, not active; nothing was changed. Choose the active card that stays."
    ]
    card.refresh_from_db()
    assert card.status == "active"
    assert not Closure.objects.exists()


@pytest.mark.django_db
def test_approving_a_duplicate_whose_survivor_was_archived_meanwhile_is_refused(staff_user, manager_user):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    card, survivor = CustomerFactory(), CustomerFactory(customer_no="S000002")
    pending = operations.request_closure(card, void_as_duplicate_of(survivor, reason("duplicate")), by=staff_user)
    operations.close_customer(survivor, ClosureChoice("archive", reason("long-inactive")), by=manager_user)

    with pytest.raises(ValidationError, match="The surviving card S000002 is archived, not active"):
        operations.approve(pending, by=manager_user)
    card.refresh_from_db()
    assert card.status == "active"
    pending.refresh_from_db()
    assert pending.state == ClosureRequest.State.PENDING


@pytest.mark.django_db
def test_lock_cards_returns_each_existing_card_once_in_primary_key_order():
    cards = [CustomerFactory() for _ in range(3)]
    with_repeats = [cards[2], cards[0].pk, None, cards[2].pk, 999_999, cards[1]]
    assert rules.lock_cards(with_repeats) == sorted(cards, key=lambda c: c.pk)
    assert rules.lock_cards([None]) == []


# --- PostgreSQL: the statements and the races ------------------------------------------------------------


@pytest.mark.postgres
@on_postgres
@pytest.mark.django_db
def test_void_as_duplicate_locks_both_cards_in_one_statement_in_primary_key_order(manager_user):
    survivor, card = CustomerFactory(), CustomerFactory()  # the survivor has the lower primary key
    with CaptureQueriesContext(connection) as queries:
        operations.close_customer(card, void_as_duplicate_of(survivor, reason("duplicate")), by=manager_user)

    first = for_update_statements(queries)[0]
    assert '"customers_customer"' in first
    assert re.search(rf"IN \({survivor.pk}, {card.pk}\)", first)
    assert 'ORDER BY "customers_customer"."id" ASC' in first


@pytest.mark.postgres
@on_postgres
@pytest.mark.django_db
def test_deciding_a_request_locks_the_cards_first_then_the_request_alone(staff_user, manager_user):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    survivor, card = CustomerFactory(), CustomerFactory()
    pending = operations.request_closure(card, void_as_duplicate_of(survivor, reason("duplicate")), by=staff_user)

    with CaptureQueriesContext(connection) as queries:
        operations.approve(pending, by=manager_user)

    cards_lock, request_lock = for_update_statements(queries)[:2]
    assert re.search(rf"IN \({survivor.pk}, {card.pk}\)", cards_lock)
    assert request_lock.startswith('SELECT "closures_closurerequest"')
    assert request_lock.endswith('FOR UPDATE OF "closures_closurerequest"')


@pytest.mark.postgres
@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_cards_voided_as_duplicates_of_each_other_at_once_leave_one_survivor(slow_lock_holder):  # noqa: F811
    dup = ClosureReasonFactory(code="race-duplicate", category="duplicate", for_void=True)
    li = UserFactory(username="li_mgr", first_name="Li", last_name="Na", role="Manager")
    wang = UserFactory(username="wang_mgr", first_name="Wang", last_name="Fang", role="Manager")
    first, second = CustomerFactory(customer_no="D000001"), CustomerFactory(customer_no="D000002")

    results = run_together(
        lambda: operations.close_customer(first.pk, void_as_duplicate_of(second, dup.pk), by=li),
        lambda: operations.close_customer(second.pk, void_as_duplicate_of(first, dup.pk), by=wang),
    )

    assert sum(isinstance(r, Closure) for r in results) == 1, results
    (refused,) = [r for r in results if not isinstance(r, Closure)]
    assert isinstance(refused, ValidationError), refused  # not a deadlock
    assert re.fullmatch(r"The surviving card D00000[12] is void, not active; .*", refused.messages[0])
    assert Customer.objects.filter(status="active").count() == 1
    assert Closure.objects.get().duplicate_of.status == "active"


@pytest.mark.postgres
@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_duplicate_requests_of_each_other_approved_at_once_leave_one_survivor(slow_lock_holder):  # noqa: F811
    dup = ClosureReasonFactory(code="race-duplicate", category="duplicate", for_void=True)
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    staff = UserFactory(username="staff_race", role="Staff")
    li = UserFactory(username="li_mgr", role="Manager")
    wang = UserFactory(username="wang_mgr", role="Manager")
    first, second = CustomerFactory(), CustomerFactory()
    requests = [
        operations.request_closure(first, void_as_duplicate_of(second, dup), by=staff),
        operations.request_closure(second, void_as_duplicate_of(first, dup), by=staff),
    ]

    results = run_together(
        lambda: operations.approve(requests[0].pk, by=li),
        lambda: operations.approve(requests[1].pk, by=wang),
    )

    assert sum(isinstance(r, Closure) for r in results) == 1, results
    (refused,) = [r for r in results if not isinstance(r, Closure)]
    assert isinstance(refused, ValidationError), refused
    assert "is void, not active" in refused.messages[0]
    assert Customer.objects.filter(status="active").count() == 1
    assert sorted(ClosureRequest.objects.values_list("state", flat=True)) == ["approved", "pending"]
