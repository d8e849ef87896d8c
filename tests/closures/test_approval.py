"""Approval (off by default): a Staff closure of a matching card becomes a request a Manager decides."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from closures import operations
from closures.models import Closure, ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import CustomerFactory

from .steps import close_through_pages, messages_of, reason

pytestmark = pytest.mark.django_db


def approval(policy: str) -> None:
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": policy})


def panel(customer, user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string("closures/_card_panel.html", {"customer": customer, "user": user}, request=request)


@pytest.fixture
def customer():
    return CustomerFactory(customer_no="A000001")


def request_as_staff(staff_client, customer, notes="客户要求"):
    return close_through_pages(staff_client, customer, "close", reason=reason("customer-request"), notes=notes)


def test_approval_is_off_by_default_and_staff_close_directly(staff_client, customer):
    assert ClosureSettings.load().approval_required is False
    request_as_staff(staff_client, customer)
    customer.refresh_from_db()
    assert customer.status == "closed"
    assert not ClosureRequest.objects.exists()


def test_with_approval_on_a_staff_closure_becomes_a_pending_request(staff_client, staff_user, customer):
    approval(ClosureSettings.Policy.ALL)

    impact = staff_client.post(
        reverse("closures:start", kwargs={"pk": customer.pk, "action": "close"}),
        {"reason": reason("customer-request").pk, "notes": "x"},
    )
    assert "This needs a Manager's approval" in impact.content.decode()
    response = request_as_staff(staff_client, customer)

    assert "Your request was sent to a Manager for approval; the card stays active." in messages_of(response)
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not Closure.objects.exists()
    pending = ClosureRequest.objects.get(customer=customer)
    assert (pending.state, pending.requested_by, pending.notes) == ("pending", staff_user, "客户要求")
    assert AuditEntry.objects.get(action="closure.request").customer_id == customer.pk
    assert "Pending approval" in panel(customer, staff_user)


def test_the_manager_queue_lists_pending_requests(staff_client, manager_client, customer):
    approval(ClosureSettings.Policy.ALL)
    request_as_staff(staff_client, customer)
    page = manager_client.get(reverse("closures:request_queue")).content.decode()
    assert "A000001" in page
    assert "Li Na" in page


def test_approving_performs_the_closure_recording_who_asked(staff_client, staff_user, manager_client, manager_user):
    customer = CustomerFactory(customer_no="A000002")
    approval(ClosureSettings.Policy.ALL)
    request_as_staff(staff_client, customer)
    pending = ClosureRequest.objects.get()

    response = manager_client.post(
        reverse("closures:request_decide", kwargs={"pk": pending.pk}), {"decision": "approve", "note": "同意"}
    )

    assert response.status_code == 302
    assert "Approved: card A000002 was closed." in messages_of(response)
    customer.refresh_from_db()
    assert customer.status == "closed"
    closure = Closure.objects.get(customer=customer)
    assert (closure.performed_by, closure.requested_by) == (manager_user, staff_user)
    pending.refresh_from_db()
    assert (pending.state, pending.decided_by, pending.closure) == ("approved", manager_user, closure)
    assert AuditEntry.objects.filter(action="closure.approve", customer_id=customer.pk).exists()
    assert AuditEntry.objects.filter(action="closure.close", customer_id=customer.pk).exists()
    assert "approved by Wang Fang" in panel(customer, staff_user)


def test_rejecting_needs_a_note_and_the_requester_sees_it(staff_client, staff_user, manager_client, customer):
    approval(ClosureSettings.Policy.ALL)
    request_as_staff(staff_client, customer)
    pending = ClosureRequest.objects.get()
    url = reverse("closures:request_decide", kwargs={"pk": pending.pk})

    refused = manager_client.post(url, {"decision": "reject", "note": ""})
    assert refused.status_code == 200
    assert "Write why the request is rejected; the requester will see it." in refused.content.decode()
    pending.refresh_from_db()
    assert pending.state == "pending"

    manager_client.post(url, {"decision": "reject", "note": "客户已续费，请保留"})
    pending.refresh_from_db()
    assert (pending.state, pending.decision_note) == ("rejected", "客户已续费，请保留")
    customer.refresh_from_db()
    assert customer.status == "active"
    assert AuditEntry.objects.get(action="closure.reject").notes == "客户已续费，请保留"
    shown = panel(customer, staff_user)
    assert "was rejected by Wang Fang" in shown
    assert "客户已续费，请保留" in shown


@pytest.mark.parametrize(
    ("segment", "balance", "points", "needs"),
    [
        (Customer.Segment.REGULAR, Decimal("0"), 0, False),
        (Customer.Segment.KEY, Decimal("0"), 0, True),
        (Customer.Segment.REGULAR, Decimal("5.00"), 0, True),
        (Customer.Segment.POTENTIAL, Decimal("0"), 10, True),
    ],
)
def test_key_accounts_and_cards_with_money_need_approval_under_that_policy(staff_user, segment, balance, points, needs):
    approval(ClosureSettings.Policy.KEY_OR_BALANCE)
    card = CustomerFactory(segment=segment, balance=balance, points=points)
    assert operations.approval_needed(card, staff_user) is needs


def test_under_the_all_cards_policy_every_staff_closure_needs_approval(staff_user):
    approval(ClosureSettings.Policy.ALL)
    assert operations.approval_needed(CustomerFactory(segment=Customer.Segment.POTENTIAL), staff_user)


def test_managers_and_admins_are_not_subject_to_approval(manager_client, admin_user, customer):
    approval(ClosureSettings.Policy.ALL)
    assert not operations.approval_needed(customer, admin_user)
    close_through_pages(manager_client, customer, "archive", reason=reason("long-inactive"))
    customer.refresh_from_db()
    assert customer.status == "archived"
    assert not ClosureRequest.objects.exists()


def test_a_card_with_a_pending_request_cannot_be_closed_by_someone_else(staff_user, manager_user, customer):
    approval(ClosureSettings.Policy.ALL)
    operations.request_closure(customer, ClosureChoice("close", reason("price")), by=staff_user)
    with pytest.raises(ValidationError, match="waiting for a Manager's approval"):
        operations.close_customer(customer, ClosureChoice("archive", reason("long-inactive")), by=manager_user)
    customer.refresh_from_db()
    assert customer.status == "active"


def test_approving_refuses_when_the_balance_changed_since_the_request(staff_user, manager_user, customer):
    approval(ClosureSettings.Policy.ALL)
    pending = operations.request_closure(customer, ClosureChoice("close", reason("price")), by=staff_user)
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("20.00"))

    with pytest.raises(ValidationError, match="balance or points changed since the request"):
        operations.approve(pending, by=manager_user)

    customer.refresh_from_db()
    assert customer.status == "active"
    pending.refresh_from_db()
    assert pending.state == "pending"


def test_a_request_is_decided_once(staff_user, manager_user, admin_user, customer):
    approval(ClosureSettings.Policy.ALL)
    pending = operations.request_closure(customer, ClosureChoice("close", reason("price")), by=staff_user)
    operations.reject(pending, by=manager_user, note="不同意")
    with pytest.raises(ValidationError, match="already decided"):
        operations.approve(pending, by=admin_user)
    assert not Closure.objects.exists()


def test_a_replayed_request_confirmation_records_one_request(staff_client, customer):
    approval(ClosureSettings.Policy.ALL)
    page = staff_client.post(
        reverse("closures:start", kwargs={"pk": customer.pk, "action": "close"}),
        {"reason": reason("price").pk, "notes": ""},
    )
    token = page.context["form"]["token"].value()
    url = reverse("closures:confirm", kwargs={"pk": customer.pk, "action": "close"})
    staff_client.post(url, {"token": token})
    second = staff_client.post(url, {"token": token})
    assert ClosureRequest.objects.count() == 1
    assert any("already sent by Li Na" in m for m in messages_of(second))


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_requester_made_a_manager_cannot_decide_their_own_request(staff_user, customer, decision):
    approval(ClosureSettings.Policy.ALL)
    pending = operations.request_closure(customer, ClosureChoice("close", reason("price")), by=staff_user)
    staff_user.groups.set([Group.objects.get(name="Manager")])
    promoted = get_user_model().objects.get(pk=staff_user.pk)  # a fresh permission cache
    promoted_client = Client()
    promoted_client.force_login(promoted)

    response = promoted_client.post(
        reverse("closures:request_decide", kwargs={"pk": pending.pk}), {"decision": decision, "note": "我自己批"}
    )

    assert "You asked for this closure; another Manager must decide it." in messages_of(response)
    with pytest.raises(ValidationError, match="another Manager must decide it"):
        getattr(operations, decision)(pending, by=promoted, note="我自己批")
    pending.refresh_from_db()
    assert (pending.state, pending.decided_by) == ("pending", None)
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not AuditEntry.objects.filter(action__in=["closure.approve", "closure.reject"]).exists()


def test_another_manager_can_still_decide_it(staff_user, manager_user, customer):
    approval(ClosureSettings.Policy.ALL)
    pending = operations.request_closure(customer, ClosureChoice("close", reason("price")), by=staff_user)
    staff_user.groups.set([Group.objects.get(name="Manager")])

    operations.approve(pending, by=manager_user)

    customer.refresh_from_db()
    assert customer.status == "closed"
