"""Withdrawing a closure request: only its requester, only while it waits; audited; a new request may follow."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from closures import operations
from closures.models import ClosureRequest, ClosureSettings
from crm import audit_display
from crm.models import AuditEntry
from tests.factories import CustomerFactory, UserFactory

from .asking import ask
from .steps import close_through_pages, messages_of, reason

pytestmark = pytest.mark.django_db

MINE = reverse("closures:my_requests")


def withdraw_url(pending) -> str:
    return reverse("closures:request_withdraw", kwargs={"pk": pending.pk})


def test_the_requester_withdraws_a_pending_request(staff_client, staff_user):
    pending = ask(staff_user, CustomerFactory(customer_no="W000001"))

    response = staff_client.post(withdraw_url(pending))

    assert response.status_code == 302
    assert response["Location"] == MINE
    assert "Request withdrawn: card W000001 stays as it is." in messages_of(response)
    pending.refresh_from_db()
    assert (pending.state, pending.decided_by) == ("withdrawn", staff_user)
    assert pending.decided_at is not None
    pending.customer.refresh_from_db()
    assert pending.customer.status == "active"
    entry = AuditEntry.objects.get(action="closure.withdraw")
    assert (entry.actor, entry.object_id, entry.customer_id) == (staff_user, str(pending.pk), pending.customer_id)
    assert entry.changes == {"state": ["pending", "withdrawn"]}


def test_staff_cannot_withdraw_someone_elses_request(client, staff_user):
    pending = ask(staff_user)
    colleague = UserFactory(username="staff_zhou", role="Staff")
    client.force_login(colleague)

    response = client.post(withdraw_url(pending))

    assert "Only Li Na, who asked for this closure, can withdraw the request." in messages_of(response)
    pending.refresh_from_db()
    assert pending.state == "pending"
    assert not AuditEntry.objects.filter(action="closure.withdraw").exists()


def test_a_manager_cannot_withdraw_a_staff_request_either(staff_user, manager_user):
    pending = ask(staff_user)
    with pytest.raises(ValidationError) as refused:
        operations.withdraw(pending, by=manager_user)
    assert refused.value.code == "not_yours"


def test_a_decided_request_cannot_be_withdrawn(staff_client, staff_user, manager_user):
    pending = ask(staff_user)
    operations.reject(pending, by=manager_user, note="保留客户")

    response = staff_client.post(withdraw_url(pending))

    assert any("This request was already decided (Rejected by Wang Fang" in m for m in messages_of(response))
    pending.refresh_from_db()
    assert pending.state == "rejected"


def test_a_withdrawn_request_cannot_be_approved(staff_user, manager_user):
    pending = ask(staff_user)
    operations.withdraw(pending, by=staff_user)
    with pytest.raises(ValidationError, match="already decided"):
        operations.approve(pending, by=manager_user)
    pending.customer.refresh_from_db()
    assert pending.customer.status == "active"


def test_a_withdrawn_request_no_longer_blocks_a_new_request(staff_client, staff_user):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    customer = CustomerFactory()
    first = ask(staff_user, customer)
    operations.withdraw(first, by=staff_user)

    close_through_pages(staff_client, customer, "close", reason=reason("customer-request"), notes="再次申请")

    assert ClosureRequest.objects.filter(customer=customer, state="pending").exclude(pk=first.pk).count() == 1


def test_a_missing_request_is_not_found_not_a_500(staff_client):
    """Not found (404), as a request of a card outside the user's data scope is (crm/scopes.py)."""
    response = staff_client.post(reverse("closures:request_withdraw", kwargs={"pk": 999999}))
    assert response.status_code == 404


def test_my_requests_lists_each_state_and_offers_withdraw_only_while_pending(staff_client, staff_user, manager_user):
    waiting = ask(staff_user, CustomerFactory(customer_no="W000010"))
    operations.approve(ask(staff_user, CustomerFactory(customer_no="W000011")), by=manager_user, note="好")
    operations.reject(ask(staff_user, CustomerFactory(customer_no="W000012")), by=manager_user, note="不行")
    operations.withdraw(ask(staff_user, CustomerFactory(customer_no="W000013")), by=staff_user)
    ask(UserFactory(username="staff_zhou", role="Staff"), CustomerFactory(customer_no="W000099"))

    page = staff_client.get(MINE).content.decode()

    for number in ("W000010", "W000011", "W000012", "W000013"):
        assert number in page
    assert "W000099" not in page
    for state in ("Pending approval", "Approved", "Rejected", "Withdrawn"):
        assert state in page
    assert "不行" in page
    assert page.count('action="/closures/requests/') == 1
    assert withdraw_url(waiting) in page


def test_my_requests_are_paginated(staff_client, staff_user):
    for _ in range(26):
        ask(staff_user)
    assert "?page=2" in staff_client.get(MINE).content.decode()
    assert staff_client.get(MINE, {"page": 2}).status_code == 200


def test_the_audit_trail_shows_the_withdrawal_in_both_languages(staff_user):
    operations.withdraw(ask(staff_user), by=staff_user, note="客户改主意了")
    entry = AuditEntry.objects.get(action="closure.withdraw")

    [english] = audit_display.describe([entry], unmasked=False)
    assert english.title == "Closure request withdrawn"
    assert english.summary == "Close card"
    assert [(c.label, c.new) for c in english.changes] == [("State", "Withdrawn")]
    assert english.notes == "客户改主意了"
    with translation.override("zh-hans"):
        [chinese] = audit_display.describe([entry], unmasked=False)
        expected = [translation.gettext("Closure request withdrawn"), translation.gettext("Withdrawn")]
    assert expected[0] != "Closure request withdrawn"
    assert chinese.title == expected[0]
    assert chinese.changes[0].new == expected[1]


def test_the_requester_withdraws_from_the_card_and_returns_to_it(staff_client, staff_user):
    pending = ask(staff_user)
    card = reverse("customers:card", kwargs={"pk": pending.customer_id})
    page = staff_client.get(card).content.decode()
    assert withdraw_url(pending) in page
    assert "Withdraw my request" in page

    response = staff_client.post(withdraw_url(pending), {"next": card})

    assert response["Location"] == card
    pending.refresh_from_db()
    assert pending.state == "withdrawn"


def test_withdrawing_never_sends_to_another_site(staff_client, staff_user):
    response = staff_client.post(withdraw_url(ask(staff_user)), {"next": "https://evil.example/"})
    assert response["Location"] == MINE


def test_a_colleague_sees_no_withdraw_button_on_the_card(client, staff_user):
    pending = ask(staff_user)
    client.force_login(UserFactory(username="staff_zhou", role="Staff"))
    page = client.get(reverse("customers:card", kwargs={"pk": pending.customer_id})).content.decode()
    assert "Pending approval" in page
    assert withdraw_url(pending) not in page
