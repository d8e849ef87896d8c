"""Close card, void record, archive: "Reason" and "Notes", "Continue" to the impact, "Confirm"."""

from decimal import Decimal

import pytest

from closures.models import Closure, ClosureReason
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import ClosureReasonFactory, CustomerFactory, UserFactory

from .steps import (
    card_url,
    close_through_pages,
    confirm,
    confirm_url,
    messages_of,
    preview,
    reason,
    start_url,
    token_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(staff_user):
    owner = UserFactory(username="owner_chen")
    return CustomerFactory(customer_no="C000101", name="张伟", segment=Customer.Segment.KEY, owner=owner)


@pytest.mark.parametrize(
    ("action", "code", "status", "message"),
    [
        ("close", "service", "closed", "Card C000101 was closed."),
        ("void", "wrong-information", "void", "Record C000101 was voided."),
        ("archive", "long-inactive", "archived", "Card C000101 was archived."),
    ],
)
def test_each_action_changes_status_records_the_closure_and_audits_it(
    staff_client, staff_user, customer, action, code, status, message
):
    response = close_through_pages(staff_client, customer, action, reason=reason(code), notes="客户电话告知")

    assert response.status_code == 302
    assert response["Location"] == card_url(customer)
    assert message in messages_of(response)
    customer.refresh_from_db()
    assert customer.status == status
    closure = Closure.objects.get(customer=customer)
    assert (closure.action, closure.reason.code, closure.category) == (action, code, reason(code).category)
    assert closure.notes == "客户电话告知"
    assert closure.performed_by == staff_user
    assert closure.previous_status == "active"
    assert closure.segment == Customer.Segment.KEY
    assert closure.owner == customer.owner
    assert closure.tenure_days == 400
    assert closure.nonce
    entry = AuditEntry.objects.get(action=f"closure.{action}")
    assert entry.customer_id == customer.pk
    assert entry.actor == staff_user
    assert entry.changes == {"status": ["active", status]}
    assert entry.data == {"reason": reason(code).pk}
    assert entry.notes == "客户电话告知"


def test_the_start_page_offers_only_active_reasons_meant_for_the_action(staff_client, customer):
    retired = ClosureReasonFactory(label_en="Retired churn reason", for_close=True, is_active=False)
    void_only = reason("wrong-information")

    page = staff_client.get(start_url(customer, "close")).content.decode()

    assert reason("service").label_en in page
    assert reason("customer-request").label_en in page
    assert retired.label_en not in page
    assert void_only.label_en not in page
    for label in ("Close card", "Reason", "Notes", "Continue", "Cancel"):
        assert label in page


def test_reason_labels_follow_the_users_language(staff_client, customer):
    staff_client.post("/i18n/setlang/", {"language": "zh-hans"})
    page = staff_client.get(start_url(customer, "close"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "客户主动要求销卡" in page
    assert "Customer asked to close the card" not in page


def test_continue_shows_the_impact_and_changes_nothing(staff_client, customer):
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("88.50"), points=120)
    customer.refresh_from_db()

    response = preview(staff_client, customer, "close", reason=reason("price"), notes="嫌贵")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Active" in page and "Closed" in page
    assert "88.50" in page and "120" in page
    assert "leaves daily lists" in page
    assert "Li Na" in page  # who is performing it
    assert "Confirm" in page and "Cancel" in page
    assert card_url(customer) in page
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not Closure.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="closure.").exists()


def test_cancel_on_either_page_is_a_link_back_to_the_card_and_changes_nothing(staff_client, customer):
    start_page = staff_client.get(start_url(customer, "void")).content.decode()
    impact_page = preview(staff_client, customer, "void", reason=reason("test-entry")).content.decode()

    cancel = f'href="{card_url(customer)}">Cancel</a>'
    assert cancel in start_page
    assert cancel in impact_page
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not Closure.objects.exists()


def test_notes_are_required_for_other_and_for_reasons_that_say_so(staff_client, customer):
    strict = ClosureReasonFactory(label_en="Strict", notes_required=True, category="price")

    for chosen in (reason("other"), strict):
        response = preview(staff_client, customer, "close", reason=chosen, notes="  ")
        assert response.status_code == 200
        assert "This reason needs notes explaining it." in response.content.decode()
        assert "token" not in response.context["form"].fields
    assert not Closure.objects.exists()


def test_notes_longer_than_1000_characters_are_refused_next_to_the_field(staff_client, customer):
    response = preview(staff_client, customer, "close", reason=reason("service"), notes="很" * 1001)
    assert response.status_code == 200
    assert response.context["form"].errors["notes"]
    assert not Closure.objects.exists()


def test_closing_with_a_balance_needs_a_settlement(staff_client, customer):
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("300.00"), points=50)
    customer.refresh_from_db()
    page = preview(staff_client, customer, "close", reason=reason("customer-request"))
    token = token_of(page)

    refused = confirm(staff_client, customer, "close", token)
    assert refused.status_code == 200
    assert refused.context["form"].errors.keys() == {"settlement"}
    customer.refresh_from_db()
    assert customer.status == "active"

    done = confirm(
        staff_client,
        customer,
        "close",
        token,
        settlement="forfeit",
        forfeit_reason="停用",
        settlement_note="余额已退回原卡",
    )
    assert done.status_code == 302
    closure = Closure.objects.get(customer=customer)
    assert closure.balance_at_closure == Decimal("300.00")
    assert closure.points_at_closure == 50
    assert closure.settlement_note == "余额已退回原卡"
    assert AuditEntry.objects.get(action="closure.close").data["settlement"] == "余额已退回原卡"


def test_void_as_duplicate_links_the_record_to_the_surviving_card(staff_client, customer):
    survivor = CustomerFactory(customer_no="C000007")
    page = preview(staff_client, customer, "void", reason=reason("duplicate"), duplicate_of=" c000007 ")
    assert "C000007" in page.content.decode()

    response = confirm(staff_client, customer, "void", token_of(page))

    assert response.status_code == 302
    closure = Closure.objects.get(customer=customer)
    assert closure.duplicate_of == survivor
    assert AuditEntry.objects.get(action="closure.void").changes["duplicate_of"] == [None, "C000007"]


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("", "Give the customer number of the card this one duplicates."),
        ("NOPE", "No card has the customer number NOPE."),
        ("C000101", "A card cannot be a duplicate of itself."),
        ("C000008", "Card C000008 is closed; choose the active card that stays."),
    ],
)
def test_void_as_duplicate_needs_another_active_card(staff_client, customer, number, error):
    CustomerFactory(customer_no="C000008", status="closed")
    response = preview(staff_client, customer, "void", reason=reason("duplicate"), duplicate_of=number)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Closure.objects.exists()


def test_an_unknown_action_is_not_found(staff_client, customer):
    assert staff_client.get(start_url(customer, "explode")).status_code == 404
    assert staff_client.post(confirm_url(customer, "explode"), {"token": "x"}).status_code == 404


@pytest.mark.parametrize("status", ["closed", "void", "archived", "erased"])
def test_a_card_that_is_not_active_cannot_be_closed_again(staff_client, status):
    customer = CustomerFactory(status=status)
    response = staff_client.get(start_url(customer, "archive"))
    assert response.status_code == 302
    assert response["Location"] == card_url(customer)
    assert messages_of(response)
    assert not Closure.objects.exists()


def test_opening_the_confirm_address_directly_goes_back_to_the_start(staff_client, customer):
    response = staff_client.get(confirm_url(customer, "close"))
    assert response.status_code == 302
    assert response["Location"] == start_url(customer, "close")


def test_a_forged_or_foreign_confirmation_changes_nothing(staff_client, customer):
    other = CustomerFactory()
    other_token = token_of(preview(staff_client, other, "close", reason=reason("service")))

    forged = confirm(staff_client, customer, "close", "not-a-token")
    foreign = confirm(staff_client, customer, "close", other_token)

    assert "This confirmation is not valid; nothing was changed. Please start again." in messages_of(forged)
    assert "This confirmation belongs to another card or action; nothing was changed." in messages_of(foreign)
    assert not Closure.objects.exists()


def test_an_old_confirmation_expires(staff_client, customer, settings, monkeypatch):
    token = token_of(preview(staff_client, customer, "close", reason=reason("service")))
    monkeypatch.setattr("closures.tokens.MAX_AGE_SECONDS", -1)
    response = confirm(staff_client, customer, "close", token)
    assert any("minutes old; nothing was changed" in m for m in messages_of(response))
    assert not Closure.objects.exists()


def test_seeded_reasons_exist_for_every_action():
    for action in ("close", "void", "archive", "erase"):
        assert ClosureReason.objects.active().for_action(action).exists(), action
