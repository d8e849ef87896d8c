"""The retention actions' pages: from the "At risk" list or the card, plan a callback or log an
attempt; the callback's assignee records it; the list shows every action with its outcome."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from closures import operations
from closures.rules import ClosureChoice
from insights.models import RetentionAction
from insights.runs import score_customers
from tests.factories import ClosureReasonFactory, UserFactory

from .shop import TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def stopped(shop, staff_user):
    """The customer who stopped buying, owned by the staff user, scored today."""
    _steady, customer = shop
    customer.owner = staff_user
    customer.save()
    score_customers(TODAY + timedelta(days=5))
    return customer


def test_a_callback_planned_from_the_at_risk_list_goes_back_to_the_list_with_its_filters(staff_client, stopped):
    listing = reverse("insights:at_risk") + "?sort=risk"
    page = staff_client.get(listing)
    form_url = reverse("insights:plan_callback", args=[stopped.pk])
    assert form_url in page.content.decode()

    form = staff_client.get(form_url, {"next": listing}).content.decode()
    assert "No purchase for 99 days" in form  # the reasons, next to the form

    due = timezone.localdate() + timedelta(days=2)
    answer = staff_client.post(
        form_url, {"assigned_to": stopped.owner_id, "due_on": due, "note": "问候", "next": listing}
    )

    assert answer.status_code == 302 and answer.url == listing
    callback = RetentionAction.objects.get(customer=stopped)
    assert (callback.kind, callback.due_on, callback.assigned_to_id, callback.note) == (
        "callback",
        due,
        stopped.owner_id,
        "问候",
    )


def test_a_callback_due_in_the_past_is_refused_next_to_the_date(staff_client, stopped):
    answer = staff_client.post(
        reverse("insights:plan_callback", args=[stopped.pk]),
        {"assigned_to": stopped.owner_id, "due_on": timezone.localdate() - timedelta(days=1)},
    )
    assert answer.status_code == 200
    assert answer.context["form"].errors == {"due_on": ["The callback cannot be due in the past."]}
    assert not RetentionAction.objects.exists()


def test_an_attempt_on_a_closed_card_is_refused_with_the_reason(staff_client, stopped, manager_user):
    operations.close_customer(stopped, ClosureChoice("close", ClosureReasonFactory()), by=manager_user)
    answer = staff_client.post(reverse("insights:log_attempt", args=[stopped.pk]), {"channel": "call"})
    assert "reinstate it first" in answer.content.decode()
    assert not RetentionAction.objects.exists()


def test_the_card_offers_the_actions_and_shows_their_outcomes(staff_client, stopped, staff_user):
    card = staff_client.get(reverse("customers:card", args=[stopped.pk])).content.decode()
    assert reverse("insights:log_attempt", args=[stopped.pk]) in card
    assert reverse("insights:plan_callback", args=[stopped.pk]) in card

    staff_client.post(reverse("insights:log_attempt", args=[stopped.pk]), {"channel": "offer", "note": "九折券"})
    RetentionAction.objects.update(outcome="retained", outcome_on=timezone.localdate())

    card = staff_client.get(reverse("customers:card", args=[stopped.pk])).content.decode()
    assert "Retention attempt · Offer" in card and "Retained: bought again" in card


def test_the_assignee_records_the_callback_from_the_list(staff_client, stopped, staff_user, manager_user):
    callback = RetentionAction.objects.create(
        customer=stopped, kind="callback", assigned_to=staff_user, due_on=timezone.localdate(), created_by=manager_user
    )
    listing = staff_client.get(reverse("insights:actions"), {"mine": "on"}).content.decode()
    assert reverse("insights:record_result", args=[callback.pk]) in listing

    answer = staff_client.post(reverse("insights:record_result", args=[callback.pk]), {"result": "下周来店"})
    assert answer.status_code == 302
    callback.refresh_from_db()
    assert callback.result == "下周来店" and callback.done_at is not None


def test_someone_else_cannot_record_a_callback_and_is_told_why(client, stopped, staff_user, manager_user):
    callback = RetentionAction.objects.create(
        customer=stopped, kind="callback", assigned_to=staff_user, due_on=timezone.localdate(), created_by=manager_user
    )
    client.force_login(UserFactory(role="Staff"))
    answer = client.post(reverse("insights:record_result", args=[callback.pk]), {"result": "x"})
    assert "Only the person it is assigned to" in answer.content.decode()
    callback.refresh_from_db()
    assert callback.done_at is None


def test_the_actions_list_filters_by_outcome(manager_client, stopped, shop, staff_user):
    steady, _ = shop
    RetentionAction.objects.create(customer=stopped, kind="attempt", outcome="retained", created_by=staff_user)
    RetentionAction.objects.create(customer=steady[0], kind="attempt", outcome="lapsed", created_by=staff_user)

    page = manager_client.get(reverse("insights:actions"), {"outcome": "retained"}).content.decode()

    assert stopped.customer_no in page and steady[0].customer_no not in page
