"""Churn after service with the dashboard's ticket filters and other periods: every group's
customers and closures equal a recount in plain Python from the ticket and closure rows (not from
the tickets' stored closed-within-90-days flag), and the group without a ticket ignores the filters."""

from datetime import date, datetime, timedelta

import pytest

from analytics import service_churn
from analytics.service_filters import ServiceFilter
from closures.models import Closure
from customers.models import Customer
from service.models import Category, Status, Ticket
from tests.factories import TicketFactory

from .service_history import SHANGHAI

pytestmark = pytest.mark.django_db
WINDOW = timedelta(days=90)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def recount(first: date, last: date, **filters) -> dict:
    start, end = midnight(first), midnight(last + timedelta(days=1))
    closures = list(Closure.objects.all())

    def closed_within(customer_id, at) -> bool:
        return any(
            c.customer_id == customer_id and c.action == "close" and c.reverted_at is None
            for c in closures
            if at <= c.performed_at < at + WINDOW
        )

    tickets = [t for t in Ticket.objects.all() if start <= t.created_at < end]
    matching = [t for t in tickets if all(getattr(t, k) == v for k, v in filters.items())]

    def sla(t) -> str:
        if t.first_response_breached or t.resolution_breached:
            return "missed"
        return "met" if t.status in (Status.RESOLVED, Status.CLOSED) else "open"

    keys = {
        ("all", "all"): lambda t: True,
        **{("category", str(c)): (lambda t, c=c: t.category_id == c) for c in {t.category_id for t in matching}},
        **{("sla", k): (lambda t, k=k: sla(t) == k) for k in ("met", "missed", "open")},
        ("again", "yes"): lambda t: t.reopen_count > 0,
        ("again", "no"): lambda t: t.reopen_count == 0,
    }
    found = {}
    for key, member in keys.items():
        group = [t for t in matching if member(t)]
        if group or key == ("all", "all"):
            closed = {t.customer_id for t in group if closed_within(t.customer_id, t.created_at)}
            found[key] = (len({t.customer_id for t in group}), len(closed))

    def in_force(customer_id) -> bool:
        return any(
            c.customer_id == customer_id
            and c.performed_at < start
            and (c.reverted_at is None or c.reverted_at >= start)
            for c in closures
        )

    active = [c.pk for c in Customer.objects.all() if c.customer_since < first and not in_force(c.pk)]
    without = [pk for pk in active if pk not in {t.customer_id for t in tickets}]
    found[("none", "none")] = (len(without), sum(closed_within(pk, start) for pk in without))
    return found


def figures(first: date, last: date, **params) -> dict:
    query = {"period": "custom", "start": first.isoformat(), "end": last.isoformat(), **params}
    churn = service_churn.compute(ServiceFilter(query, today=date(2026, 8, 1)))
    found = {("all", "all"): (churn.with_ticket.customers, churn.with_ticket.closed)}
    for breakdown, rates in (("category", churn.by_category), ("sla", churn.by_sla), ("again", churn.by_reopened)):
        found.update({(breakdown, r.key): (r.customers, r.closed) for r in rates})
    found[("none", "none")] = (churn.without_ticket.customers, churn.without_ticket.closed)
    return found


PERIODS = [
    (date(2026, 3, 1), date(2026, 3, 31)),
    (date(2026, 2, 15), date(2026, 4, 30)),
    (date(2026, 3, 5), date(2026, 3, 5)),
]


@pytest.mark.parametrize("first, last", PERIODS)
def test_every_group_equals_a_recount_without_filters(service_world, first, last):
    assert figures(first, last) == recount(first, last)


@pytest.mark.parametrize(
    "param, column, value",
    [
        ("category", "category_id", lambda w: w.categories["repair"].pk),
        ("channel", "channel", lambda w: "wechat"),
        ("priority", "priority", lambda w: "high"),
        ("team", "team_id", lambda w: w.teams["desk"].pk),
    ],
)
@pytest.mark.parametrize("first, last", PERIODS[:2])
def test_every_group_equals_a_recount_with_a_ticket_filter(service_world, first, last, param, column, value):
    wanted = value(service_world)

    found = figures(first, last, **{param: str(wanted)})

    assert found == recount(first, last, **{column: wanted})
    # the customers without a ticket are the same whatever the filter: it narrows the ticket side only
    assert found[("none", "none")] == recount(first, last)[("none", "none")]


def test_a_filter_that_matches_no_ticket_leaves_every_group_empty(service_world):
    found = figures(date(2026, 3, 1), date(2026, 3, 31), channel="store")

    assert found == {
        ("all", "all"): (0, 0),
        ("none", "none"): recount(date(2026, 3, 1), date(2026, 3, 31))[("none", "none")],
    }


def test_more_categories_than_one_mask_holds_are_counted_alike(service_world):
    """Over 62 groups the per-customer masks take a second column (analytics/service_churn.py BITS)."""
    many = Category.objects.bulk_create(
        [Category(key=f"extra-{n}", label_en=f"Extra {n}", label_zh=f"其他{n}") for n in range(70)]
    )
    cards = service_world.cards
    for card, category, day in (("B", many[-1], 3), ("G", many[-1], 4), ("A", many[40], 5), ("H", many[69], 6)):
        TicketFactory(customer=cards[card], category=category, created_at=midnight(date(2026, 3, day)))

    found = figures(date(2026, 3, 1), date(2026, 3, 31))

    assert found == recount(date(2026, 3, 1), date(2026, 3, 31))
    assert found[("category", str(many[-1].pk))] == (3, 2)  # B and G were closed within 90 days
