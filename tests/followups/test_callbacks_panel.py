"""The card's follow-ups panel (its follow-ups and the customer's answers, in a fixed number of
queries) and the inbox: callbacks due for their assignee, cards to reinstate for Managers."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from closures.models import ClosureReason
from crm import inbox
from followups import callbacks
from followups.models import Answer
from tests.factories import CustomerFactory, FollowupFactory

pytestmark = pytest.mark.django_db


def card(client, customer) -> str:
    response = client.get(reverse("customers:card", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode()


def answered(followup, **values):
    return Answer.objects.create(
        followup=followup, closure=followup.closure, customer=followup.customer, source="survey", **values
    )


def test_the_card_shows_its_follow_ups_and_the_customers_answers_escaped(manager_client):
    customer = CustomerFactory(status="closed")
    failed = FollowupFactory(
        customer=customer, kind="notice", channel="email", state="failed", last_error="550 no mailbox"
    )
    survey = FollowupFactory(customer=customer, closure=failed.closure, kind="survey", channel="email", state="done")
    answered(survey, reason=ClosureReason.objects.get(code="price"), csat=3, nps=6, come_back="<script>x</script>")

    html = card(manager_client, customer)

    assert "Closure notice" in html and "Exit survey" in html
    assert "550 no mailbox" in html
    assert reverse("followups:followup", args=[failed.pk]) in html
    assert ClosureReason.objects.get(code="price").label_en in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html


def test_staff_see_the_panel_but_link_only_to_their_own_follow_ups(staff_client, staff_user):
    customer = CustomerFactory(status="closed")
    mine = FollowupFactory(customer=customer, assigned_to=staff_user)
    notice = FollowupFactory(customer=customer, closure=mine.closure, kind="notice", channel="email")
    html = card(staff_client, customer)
    assert reverse("followups:followup", args=[mine.pk]) in html
    assert reverse("followups:followup", args=[notice.pk]) not in html


def _queries(client, customer) -> int:
    with CaptureQueriesContext(connection) as captured:
        card(client, customer)
    return len(captured)


def test_the_panel_costs_the_same_queries_however_many_follow_ups(manager_client, manager_user):
    small, big = CustomerFactory(status="closed"), CustomerFactory(status="closed")
    answered(FollowupFactory(customer=small, kind="survey", state="done"), reason=ClosureReason.objects.first())
    first = FollowupFactory(customer=big, assigned_to=manager_user)
    for n in range(30):
        f = FollowupFactory(
            customer=big, closure=first.closure, kind="survey", due_at=timezone.now() - dt.timedelta(days=n)
        )
        answered(f, reason=ClosureReason.objects.get(code="price"), csat=1 + n % 5, nps=n % 11)
    _queries(manager_client, small)  # warm the session and permission caches
    assert _queries(manager_client, big) == _queries(manager_client, small)


def test_the_inbox_counts_callbacks_due_now_for_their_assignee(staff_user, manager_user, staff_client):
    FollowupFactory(assigned_to=staff_user, due_at=timezone.now() - dt.timedelta(days=1))
    FollowupFactory(assigned_to=staff_user, due_at=timezone.now() - dt.timedelta(minutes=1))
    FollowupFactory(assigned_to=staff_user, due_at=timezone.now() + dt.timedelta(days=1))
    FollowupFactory(assigned_to=staff_user, state="done")
    FollowupFactory(assigned_to=manager_user, due_at=timezone.now() - dt.timedelta(days=1))

    assert inbox.counts(staff_user)[callbacks.DUE] == 2
    assert callbacks.TO_REINSTATE not in inbox.counts(staff_user)
    assert "Callbacks due" in staff_client.get(reverse("inbox")).content.decode()


def test_recording_an_outcome_refreshes_the_cached_count(staff_user, settings):
    settings.INBOX_CACHE_SECONDS = 30
    callback = FollowupFactory(assigned_to=staff_user, due_at=timezone.now() - dt.timedelta(hours=1))
    assert inbox.counts(staff_user)[callbacks.DUE] == 1
    callbacks.record_outcome(callback, by=staff_user, outcome="not_reached")
    assert inbox.counts(staff_user)[callbacks.DUE] == 0


def test_managers_count_the_cards_to_reinstate(manager_user, staff_user, settings):
    settings.INBOX_CACHE_SECONDS = 30
    callback = FollowupFactory(assigned_to=staff_user)
    assert inbox.counts(manager_user)[callbacks.TO_REINSTATE] == 0
    callbacks.record_outcome(callback, by=staff_user, outcome="comes_back", note="Wants to return")
    assert inbox.counts(manager_user)[callbacks.TO_REINSTATE] == 1
    callbacks.confirm_reinstatement(callback, by=manager_user)
    assert inbox.counts(manager_user)[callbacks.TO_REINSTATE] == 0
