"""Every figure of the service dashboard equals the same figure computed again, in plain Python,
from the ticket and closure rows the operations wrote (tests/analytics/service_history.py)."""

import math
from collections import Counter
from datetime import date, timedelta

import pytest

from analytics import service, service_churn
from analytics.service_filters import ServiceFilter
from closures.models import Closure
from service import calendar, tally
from service.models import Status, Ticket

from .service_history import SHANGHAI

pytestmark = pytest.mark.django_db
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)
MARCH = {"period": "custom", "start": FIRST.isoformat(), "end": LAST.isoformat()}
RESOLVED = (Status.RESOLVED, Status.CLOSED)


def day(moment):
    return moment.astimezone(SHANGHAI).date() if moment else None


def within(moment, first=FIRST, last=LAST) -> bool:
    return moment is not None and first <= day(moment) <= last


def done_day(t: Ticket):
    if t.status in RESOLVED:
        return day(t.resolved_at)
    return day(t.closed_at) if t.status == Status.CANCELLED else None


def figures(**filters):
    return service.compute(ServiceFilter({**MARCH, **filters}, today=date(2026, 8, 1)))


def raw(**where) -> list[Ticket]:
    return [t for t in Ticket.objects.all() if all(getattr(t, k) == v for k, v in where.items())]


def test_ticket_counts_and_breakdowns_equal_a_count_of_the_tickets(service_world):
    f, tickets = figures(), raw()
    opened = [t for t in tickets if within(t.created_at)]
    assert f.total.opened == len(opened) == 5
    assert f.total.resolved == sum(1 for t in tickets if t.status in RESOLVED and within(t.resolved_at)) == 4
    assert f.total.cancelled == sum(1 for t in tickets if t.status == Status.CANCELLED and within(t.closed_at)) == 1
    for groups, attr in (
        (f.by_category, "category_id"),
        (f.by_channel, "channel"),
        (f.by_team, "team_id"),
        (f.by_priority, "priority"),
    ):
        expected = Counter(getattr(t, attr) or 0 for t in opened)
        assert {g.key: g.counts.opened for g in groups} == {str(k): n for k, n in expected.items()}
    after_sales = service_world.teams["after_sales"]
    assert [g.label for g in f.by_team] == ["Service desk", "After-sales"]
    assert figures(team=after_sales.pk).total.opened == sum(1 for t in opened if t.team_id == after_sales.pk) == 1
    assert figures(channel="wechat", priority="urgent").total.opened == 1


def test_sla_compliance_and_the_reopen_rate_equal_those_of_the_tickets(service_world):
    f, tickets = figures(), raw()
    resolved = [t for t in tickets if t.status in RESOLVED and within(t.resolved_at) and t.resolution_minutes]
    met = [t for t in resolved if not (t.first_response_breached or t.resolution_breached)]
    assert f.total.sla_rate == pytest.approx(len(met) / len(resolved)) == 2 / 4
    responded = [t for t in tickets if within(t.first_response_at) and t.first_response_minutes]
    assert f.total.fr_rate == pytest.approx(sum(not t.first_response_breached for t in responded) / len(responded))
    on_time = [t for t in resolved if not t.resolution_breached]
    assert f.total.res_rate == pytest.approx(len(on_time) / len(resolved))
    opened = [t for t in tickets if within(t.created_at)]
    reopened = [t for t in opened if t.reopen_count]
    ever_resolved = [t for t in opened if t.reopen_count or t.status in RESOLVED]
    assert f.total.reopen_rate == pytest.approx(len(reopened) / len(ever_resolved)) == 1 / 3


def test_the_backlog_is_the_tickets_opened_and_not_yet_done(service_world):
    f, tickets = figures(), raw()

    def open_on(last_day):
        return sum(
            1 for t in tickets if day(t.created_at) <= last_day and not (done_day(t) and done_day(t) <= last_day)
        )

    assert f.backlog_at_start == open_on(FIRST - timedelta(days=1)) == 1
    assert f.backlog_at_end == open_on(LAST) == 1
    weeks = figures(grain="week").steps
    assert [s.backlog for s in weeks] == [open_on(s.last) for s in weeks]
    assert [s.opened for s in weeks] == [
        sum(1 for t in tickets if within(t.created_at, s.first, s.last)) for s in weeks
    ]
    assert weeks[0].first == FIRST and weeks[-1].last == LAST and len(weeks) == 6
    months = figures(period="custom", start="2026-02-01", end="2026-04-30").steps
    assert [(s.first.month, s.opened, s.backlog) for s in months] == [(2, 1, 1), (3, 5, 1), (4, 1, 2)]


def _exact(values: list[int], q: float) -> int:
    return sorted(values)[math.ceil(q * len(values)) - 1]


def test_medians_and_90th_percentiles_lie_in_the_bucket_of_the_exact_value(service_world):
    f, tickets, cal = figures(), raw(), calendar.current()
    first_response = [cal.between(t.created_at, t.first_response_at) for t in tickets if within(t.first_response_at)]
    resolution = [
        cal.between(t.created_at, t.resolved_at) - t.paused_minutes
        for t in tickets
        if t.status in RESOLVED and within(t.resolved_at)
    ]
    assert f.times.fr_count == len(first_response) and f.times.res_count == len(resolution) == 4
    for estimate, values, q in (
        (f.times.fr_median, first_response, 0.5),
        (f.times.fr_p90, first_response, 0.9),
        (f.times.res_median, resolution, 0.5),
        (f.times.res_p90, resolution, 0.9),
    ):
        low, high = tally.bucket_bounds(tally.bucket_of(_exact(values, q)))
        assert low <= estimate <= high


def _closed_within_90_days(customer_id, start) -> bool:
    return any(
        c.action == "close" and c.reverted_at is None and start <= c.performed_at < start + timedelta(days=90)
        for c in Closure.objects.filter(customer_id=customer_id)
    )


def test_churn_after_service_equals_a_count_of_customers_and_their_closures(service_world):
    churn = service_churn.compute(ServiceFilter(MARCH, today=date(2026, 8, 1)))
    opened = [t for t in raw() if within(t.created_at)]
    customers = {t.customer_id for t in opened}
    closed = {t.customer_id for t in opened if _closed_within_90_days(t.customer_id, t.created_at)}
    assert (churn.with_ticket.customers, churn.with_ticket.closed) == (len(customers), len(closed)) == (5, 1)
    by_category = {r.key: (r.customers, r.closed) for r in churn.by_category}
    for category_id in {t.category_id for t in opened}:
        group = [t for t in opened if t.category_id == category_id]
        expected = (
            len({t.customer_id for t in group}),
            len({t.customer_id for t in group if _closed_within_90_days(t.customer_id, t.created_at)}),
        )
        assert by_category[str(category_id)] == expected
    by_sla = {r.key: (r.customers, r.closed) for r in churn.by_sla}
    assert by_sla == {"met": (2, 0), "missed": (1, 1), "open": (2, 0)}
    assert {r.key: (r.customers, r.closed) for r in churn.by_reopened} == {"no": (4, 0), "yes": (1, 1)}
    # Without a ticket: the cards that were customers on 1 March, less those with a March ticket.
    start = opened[0].created_at.replace(year=2026, month=3, day=1, hour=0, minute=0)
    others = {c.pk for c in service_world.cards.values()} - customers
    assert churn.without_ticket.customers == len(others) == 4
    assert churn.without_ticket.closed == sum(_closed_within_90_days(pk, start) for pk in others) == 1
    assert not churn.window_open


def test_all_time_has_no_group_without_a_ticket(service_world):
    churn = service_churn.compute(ServiceFilter({"period": "all"}, today=date(2026, 8, 1)))
    assert churn.without_ticket is None and churn.with_ticket.customers == 6


@pytest.mark.parametrize(
    "first, last",
    [
        (date(2026, 2, 1), date(2026, 4, 30)),  # whole months only (month rows)
        (date(2026, 3, 3), date(2026, 3, 9)),  # inside one month (day rows)
        (date(2026, 2, 20), date(2026, 3, 4)),  # across a month's end: two partial months
        (date(2026, 2, 21), date(2026, 4, 2)),  # partial February, whole March, partial April
        (date(2026, 3, 4), date(2026, 4, 30)),  # March less its first three days
        (date(2026, 2, 1), date(2026, 3, 19)),  # whole February, March less its last twelve days
    ],
)
def test_periods_that_cut_months_count_the_tickets_as_whole_months_do(service_world, first, last):
    f = figures(start=first.isoformat(), end=last.isoformat())
    tickets = raw()

    def opened(a, b):
        return [t for t in tickets if within(t.created_at, a, b)]

    def resolved(a, b):
        return [t for t in tickets if t.status in RESOLVED and within(t.resolved_at, a, b)]

    def open_on(last_day):
        return sum(
            1 for t in tickets if day(t.created_at) <= last_day and not (done_day(t) and done_day(t) <= last_day)
        )

    assert f.total.opened == len(opened(first, last))
    assert f.total.resolved == len(resolved(first, last)) == f.times.res_count
    assert f.total.cancelled == sum(t.status == Status.CANCELLED and within(t.closed_at, first, last) for t in tickets)
    responded = [t for t in tickets if within(t.first_response_at, first, last)]
    assert f.times.fr_count == len(responded)
    assert f.total.fr_met + f.total.fr_missed == sum(1 for t in responded if t.first_response_minutes)
    assert f.total.reopened == sum(1 for t in opened(first, last) if t.reopen_count)
    assert (f.backlog_at_start, f.backlog_at_end) == (open_on(first - timedelta(days=1)), open_on(last))
    assert [(s.first, s.last, s.opened, s.resolved, s.backlog) for s in f.steps] == [
        (s.first, s.last, len(opened(s.first, s.last)), len(resolved(s.first, s.last)), open_on(s.last))
        for s in f.steps
    ]
    assert f.steps[0].first == first and f.steps[-1].last == last
    assert sum(s.opened for s in f.steps) == f.total.opened > 0


def test_a_period_splits_into_whole_months_and_the_fewest_days():
    today = date(2026, 8, 1)
    split = service.Split.of(date(2026, 3, 4), date(2026, 5, 10), today)
    assert (split.first, split.stop) == (date(2026, 4, 1), date(2026, 5, 1))
    assert split.also == (date(2026, 3, 1),) and split.minus == ((date(2026, 3, 1), date(2026, 3, 3)),)
    assert split.edges == ((date(2026, 5, 1), date(2026, 5, 10)),)
    inside = service.Split.of(date(2026, 3, 4), date(2026, 3, 20), today)
    assert (inside.stop, inside.edges) == (None, ((date(2026, 3, 4), date(2026, 3, 20)),))
    # The month of today counts whole: nothing is counted on a later day.
    assert service.Split.of(date(2026, 7, 1), today, today).edges == ()
