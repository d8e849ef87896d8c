"""The churn rate over random histories: never above 100 %, and equal to a recount of the history.

Each example builds cards of two owners that became customers on random days, then closes (any action),
reinstates, closes again and erases them at random later moments, as the operations allow: a card
is closed only while active, reinstated only while closed, and never changes after erasure. The
rate is read for everyone or, as a Staff user scoped to their own cards, for the first owner's
cards alone (analytics/population.py: the owners' own path, or with a segment the cards' ids). The
oracle reads the generated history itself, not the database.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from analytics import figures
from analytics.filters import ClosureFilter
from closures.models import ClosureReason
from crm import scopes
from crm.models import DataScope
from tests.factories import ClosureFactory, CustomerFactory, UserFactory

from .history import SHANGHAI, local_day

REFERENCE = date(2024, 6, 30)
ACTIONS = ("close", "close", "void", "archive")


@dataclass
class Card:
    since: date
    segment: str
    mine: bool  # the scoped reader's card (else the other owner's)
    events: list = field(default_factory=list)  # (performed_at, action, reverted_at | None)


def moment(day: date, minutes: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(minutes=minutes)


@st.composite
def cards(draw) -> Card:
    since = REFERENCE - timedelta(days=draw(st.integers(100, 600)))
    card = Card(since=since, segment=draw(st.sampled_from(["regular", "key"])), mine=draw(st.booleans()))
    at = moment(since, draw(st.integers(0, 1439)))
    for _ in range(draw(st.integers(0, 4))):
        at += timedelta(minutes=draw(st.integers(1, 60 * 1440)))
        action = draw(st.sampled_from(ACTIONS + ("erase",)))
        back = (
            None
            if action == "erase" or draw(st.booleans())
            else at + timedelta(minutes=draw(st.integers(1, 60 * 1440)))
        )
        card.events.append((at, action, back))
        if back is None:
            break  # closed for good (or erased): nothing more can happen to the card
        at = back
    return card


def in_days(at: datetime, first: date | None, last: date) -> bool:
    day = local_day(at)
    return (first is None or day >= first) and day <= last


def oracle(
    history: list[Card], first: date | None, last: date, action: str, reverted: bool, segment: str, scoped: bool
):
    """(cards closed in the days, cards active at some moment of them), from the generated history."""
    start = moment(first, 0) if first else None
    end = moment(last + timedelta(days=1), 0)
    closed = population = 0
    for card in history:
        if (segment and card.segment != segment) or (scoped and not card.mine):
            continue
        closed += any(
            a == action and (reverted or back is None) and in_days(at, first, last) for at, a, back in card.events
        )
        if card.since > last:
            continue
        throughout = start is not None and any(
            at < start and (back is None or back >= end) for at, _a, back in card.events
        )
        population += not throughout
    return closed, population


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    history=st.lists(cards(), min_size=3, max_size=12),
    first_back=st.one_of(st.none(), st.integers(0, 400)),
    length=st.integers(0, 300),
    action=st.sampled_from(["", "void", "archive"]),
    reverted=st.booleans(),
    segment=st.sampled_from(["", "key"]),
    scoped=st.booleans(),
)
def test_the_churn_rate_never_exceeds_100_percent_and_equals_a_recount(
    history, first_back, length, action, reverted, segment, scoped
):
    first = None if first_back is None else REFERENCE - timedelta(days=first_back)
    last = (first or REFERENCE) + timedelta(days=length) if first else REFERENCE - timedelta(days=length)
    reason = ClosureReason.objects.first()
    cache.delete(scopes.CACHE_KEY)
    with transaction.atomic():
        me, other = UserFactory(role="Staff"), UserFactory(role="Staff")
        DataScope.objects.create(role="Staff", scope="own" if scoped else "all")
        for card in history:
            customer = CustomerFactory(
                customer_since=card.since,
                created_at=moment(card.since, 0),
                segment=card.segment,
                owner=me if card.mine else other,
                status="active",
            )
            for at, a, back in card.events:
                ClosureFactory(customer=customer, action=a, reason=reason, performed_at=at, reverted_at=back)
        query = {"period": "custom", "end": last.isoformat(), "action": action, "segment": segment}
        if first:
            query["start"] = first.isoformat()
        if reverted:
            query["reverted"] = "1"
        fs = ClosureFilter(query, today=REFERENCE + timedelta(days=500), user=me)
        assert fs.is_valid(), fs.errors
        churn = figures.compute(fs).churn.current
        closed, population = oracle(history, first, last, action or "close", reverted, segment, scoped)
        transaction.set_rollback(True)
    cache.delete(scopes.CACHE_KEY)  # the scope read inside the rolled-back transaction
    event(f"reinstated during the period: {churn.reactivated > 0}")
    event(f"closed during the period: {churn.churned > 0}")

    assert (churn.churned, churn.population) == (closed, population)
    assert churn.rate is None or 0 <= churn.rate <= 1
