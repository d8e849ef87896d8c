"""Correct under pressure: races, replays, stale previews, retired reasons and failures part-way.

The race tests need PostgreSQL (real row locks between real connections); each thread uses its
own connection and closes it. Transactional tests flush the database, which removes the
migration-seeded reasons, so these tests make their own.
"""

import time
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from closures import erasure, operations, rules
from closures.models import ACTION_STATUS, Closure
from closures.rules import ClosureChoice
from crm import audit
from crm.models import AuditEntry
from customers.models import Customer
from tests.concurrency import run_together
from tests.factories import ClosureReasonFactory, CustomerFactory, UserFactory

from .steps import confirm, messages_of, preview, token_of


@pytest.fixture
def churn_reason(db):
    return ClosureReasonFactory(code="pressure-churn", label_en="Pressure churn", for_close=True, for_archive=True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def slow_lock_holder(monkeypatch):
    """Hold the row lock a little longer, so the second confirmation really waits on it."""
    original = rules.refuse_replay

    def slow(nonce):
        time.sleep(0.3)
        return original(nonce)

    monkeypatch.setattr(rules, "refuse_replay", slow)


# --- PostgreSQL: real concurrent connections ---------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_confirming_the_same_card_at_once_record_one_closure(churn_reason, slow_lock_holder):
    li = UserFactory(username="li_staff", first_name="Li", last_name="Na", role="Staff")
    wang = UserFactory(username="wang_staff", first_name="Wang", last_name="Fang", role="Staff")
    customer = CustomerFactory(customer_no="X000001")
    li_client, wang_client = logged_in(li), logged_in(wang)
    li_token = token_of(preview(li_client, customer, "close", reason=churn_reason))
    wang_token = token_of(preview(wang_client, customer, "close", reason=churn_reason))

    responses = run_together(
        lambda: confirm(li_client, customer, "close", li_token),
        lambda: confirm(wang_client, customer, "close", wang_token),
    )

    assert all(r.status_code == 302 for r in responses), responses
    closure = Closure.objects.get(customer=customer)
    assert AuditEntry.objects.filter(action="closure.close", customer_id=customer.pk).count() == 1
    winner = "Li Na" if closure.performed_by == li else "Wang Fang"
    texts = [m for r in responses for m in messages_of(r)]
    assert "Card X000001 was closed." in texts
    already = [t for t in texts if t.startswith("This card was already closed by")]
    assert len(already) == 1
    assert f"already closed by {winner} at " in already[0]
    assert str(timezone.localtime(closure.performed_at).year) in already[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_sending_the_same_confirmation_twice_records_one_closure(churn_reason, slow_lock_holder):
    li = UserFactory(username="li_staff", first_name="Li", last_name="Na", role="Staff")
    customer = CustomerFactory(customer_no="X000002")
    client_a, client_b = logged_in(li), logged_in(li)
    token = token_of(preview(client_a, customer, "close", reason=churn_reason))

    responses = run_together(
        lambda: confirm(client_a, customer, "close", token),
        lambda: confirm(client_b, customer, "close", token),
    )

    assert Closure.objects.filter(customer=customer).count() == 1
    texts = [m for r in responses for m in messages_of(r)]
    assert sum(t.startswith("This card was already closed by Li Na at ") for t in texts) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_archive_racing_a_close_leaves_exactly_one_of_them(churn_reason):
    manager = UserFactory(username="mgr", first_name="Wang", last_name="Fang", role="Manager")
    admin = UserFactory(username="adm", first_name="Zhao", last_name="Lei", role="Admin")
    customer = CustomerFactory()

    results = run_together(
        lambda: operations.close_customer(customer.pk, ClosureChoice("close", churn_reason.pk), by=manager),
        lambda: operations.close_customer(customer.pk, ClosureChoice("archive", churn_reason.pk), by=admin),
    )

    assert sum(isinstance(r, Closure) for r in results) == 1
    refused = [r for r in results if not isinstance(r, Closure)]
    assert "already" in str(refused[0])
    customer.refresh_from_db()
    assert customer.status == ACTION_STATUS[Closure.objects.get(customer=customer).action]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_failing_audit_write_leaves_nothing_half_done(churn_reason, monkeypatch):
    manager = UserFactory(username="mgr", role="Manager")
    customer = CustomerFactory()
    monkeypatch.setattr(audit, "record", _failing_record)

    with pytest.raises(RuntimeError):
        operations.close_customer(customer, ClosureChoice("close", churn_reason), by=manager)

    customer.refresh_from_db()
    assert customer.status == "active"
    assert not Closure.objects.exists()
    assert not AuditEntry.objects.exists()


# --- Every database ------------------------------------------------------------------------------


def _failing_record(*args, **kwargs):
    raise RuntimeError("the audit store is down")


@pytest.mark.django_db
def test_a_failing_audit_write_leaves_status_closure_and_audit_unchanged(staff_user, churn_reason, monkeypatch):
    customer = CustomerFactory()
    monkeypatch.setattr(audit, "record", _failing_record)

    with pytest.raises(RuntimeError):
        operations.close_customer(customer, ClosureChoice("close", churn_reason), by=staff_user)
    with pytest.raises(RuntimeError):
        erasure.erase_customer(
            customer,
            ClosureChoice("erase", ClosureReasonFactory(for_erase=True)),
            by=UserFactory(role="Admin"),
            confirmation=customer.customer_no,
        )

    customer.refresh_from_db()
    assert customer.status == "active"
    assert customer.name
    assert not Closure.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="closure.").exists()


@pytest.mark.django_db
def test_a_replayed_confirmation_records_one_closure(staff_client, churn_reason):
    customer = CustomerFactory(customer_no="X000003")
    token = token_of(preview(staff_client, customer, "close", reason=churn_reason))

    first = confirm(staff_client, customer, "close", token)
    again = confirm(staff_client, customer, "close", token)  # refresh, back button, double click

    assert "Card X000003 was closed." in messages_of(first)
    assert any(m.startswith("This card was already closed by Li Na at ") for m in messages_of(again))
    assert Closure.objects.filter(customer=customer).count() == 1
    assert AuditEntry.objects.filter(action="closure.close").count() == 1


@pytest.mark.django_db
def test_a_replay_after_reinstatement_does_not_close_the_card_again(staff_client, manager_user, churn_reason):
    customer = CustomerFactory()
    token = token_of(preview(staff_client, customer, "close", reason=churn_reason))
    confirm(staff_client, customer, "close", token)
    operations.reinstate(customer, by=manager_user, note="误操作")

    again = confirm(staff_client, customer, "close", token)

    assert any("already closed by" in m for m in messages_of(again))
    customer.refresh_from_db()
    assert customer.status == "active"


@pytest.mark.django_db
def test_a_card_archived_by_someone_else_after_the_preview_is_refused(staff_client, manager_user, churn_reason):
    customer = CustomerFactory()
    token = token_of(preview(staff_client, customer, "close", reason=churn_reason))
    operations.close_customer(customer, ClosureChoice("archive", churn_reason), by=manager_user)

    response = confirm(staff_client, customer, "close", token)

    assert any(m.startswith("This card was already archived by Wang Fang at ") for m in messages_of(response))
    customer.refresh_from_db()
    assert customer.status == "archived"
    assert Closure.objects.get().action == "archive"


@pytest.mark.django_db
def test_a_balance_changed_after_the_preview_is_refused(staff_client, churn_reason):
    customer = CustomerFactory()
    token = token_of(preview(staff_client, customer, "close", reason=churn_reason))
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("50.00"))

    response = confirm(staff_client, customer, "close", token)

    assert any("balance or points changed after your preview" in m for m in messages_of(response))
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not Closure.objects.exists()


@pytest.mark.django_db
def test_a_card_edited_after_the_preview_is_refused(staff_client, churn_reason):
    customer = CustomerFactory()
    token = token_of(preview(staff_client, customer, "close", reason=churn_reason))
    customer.city = "北京"
    customer.save()

    response = confirm(staff_client, customer, "close", token)

    assert any("changed by someone else after your preview" in m for m in messages_of(response))
    assert not Closure.objects.exists()


@pytest.mark.django_db
def test_a_reason_retired_between_preview_and_confirmation_is_refused(staff_client, churn_reason):
    customer = CustomerFactory()
    token = token_of(preview(staff_client, customer, "close", reason=churn_reason))
    churn_reason.is_active = False
    churn_reason.save()

    response = confirm(staff_client, customer, "close", token)

    expected = "The reason “Pressure churn” was retired after your preview; nothing was changed. Choose another reason."
    assert expected in messages_of(response)
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not Closure.objects.exists()
