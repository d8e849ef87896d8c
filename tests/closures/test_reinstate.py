"""Reinstate (Managers, Admins): back to active with a note; the closure is kept, marked reverted."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from closures import erasure, operations
from closures.models import Closure
from closures.rules import ClosureChoice
from crm.models import AuditEntry
from tests.factories import CustomerFactory

from .steps import card_url, close_through_pages, messages_of, reason

pytestmark = pytest.mark.django_db


def reinstate_url(customer) -> str:
    return reverse("closures:reinstate", kwargs={"pk": customer.pk})


@pytest.fixture
def closed(staff_client):
    customer = CustomerFactory(customer_no="R000001")
    close_through_pages(staff_client, customer, "close", reason=reason("competitor"), notes="去了别家")
    return customer


def test_reinstating_restores_active_and_marks_the_closure_reverted(manager_client, manager_user, closed):
    page = manager_client.get(reinstate_url(closed)).content.decode()
    assert "Reinstate" in page and "Cancel" in page

    response = manager_client.post(reinstate_url(closed), {"note": "客户回来了"})

    assert response.status_code == 302
    assert response["Location"] == card_url(closed)
    assert "Card R000001 is active again." in messages_of(response)
    closed.refresh_from_db()
    assert closed.status == "active"
    closure = Closure.objects.get(customer=closed)
    assert closure.reverted_at is not None
    assert (closure.reverted_by, closure.revert_note) == (manager_user, "客户回来了")
    entry = AuditEntry.objects.get(action="closure.reinstate")
    assert entry.customer_id == closed.pk
    assert (entry.changes, entry.notes) == ({"status": ["closed", "active"]}, "客户回来了")


def test_reinstating_needs_a_note(manager_client, closed):
    response = manager_client.post(reinstate_url(closed), {"note": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["note"]
    closed.refresh_from_db()
    assert closed.status == "closed"


def test_a_reinstated_card_can_be_closed_again_and_keeps_both_closures(manager_client, manager_user, closed):
    manager_client.post(reinstate_url(closed), {"note": "误操作"})
    close_through_pages(manager_client, closed, "archive", reason=reason("long-inactive"))
    closed.refresh_from_db()
    assert closed.status == "archived"
    assert Closure.objects.filter(customer=closed).count() == 2
    assert Closure.objects.open().get(customer=closed).action == "archive"


@pytest.mark.parametrize("status", ["void", "archived"])
def test_void_and_archived_cards_can_be_reinstated(manager_user, status):
    customer = CustomerFactory(status=status)
    assert operations.reinstate(customer, by=manager_user, note="ok") is None
    customer.refresh_from_db()
    assert customer.status == "active"


def test_an_active_card_is_not_reinstated(manager_client, manager_user):
    customer = CustomerFactory()
    response = manager_client.get(reinstate_url(customer))
    assert "This card is already active." in messages_of(response)
    with pytest.raises(ValidationError, match="already active"):
        operations.reinstate(customer, by=manager_user, note="x")
    assert not AuditEntry.objects.filter(action="closure.reinstate").exists()


def test_an_erased_card_cannot_be_reinstated(admin_client, admin_user, closed):
    erasure.erase_customer(
        closed, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation="R000001"
    )

    response = admin_client.post(reinstate_url(closed), {"note": "想恢复"})

    assert response.status_code == 302
    assert messages_of(response)
    with pytest.raises(ValidationError, match="cannot be reinstated"):
        operations.reinstate(closed, by=admin_user, note="想恢复")
    closed.refresh_from_db()
    assert closed.status == "erased"
    assert Closure.objects.open().filter(customer=closed).exists()
