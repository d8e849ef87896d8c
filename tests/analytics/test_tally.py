"""Figures served by the closure tallies equal the same figures read from the closure table alone.

Every figure is computed twice: as the dashboard does (whole months from the tallies, partial
months from the closure table) and with no tally at all (``tallied.TALLIES`` emptied, so every
query reads the closure table, as before the tallies existed). The independent oracle of
test_figures.py checks the figures themselves; these tests check that the split into whole and
partial months loses or doubles nothing, wherever the period starts and ends.
"""

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import figures, held, tallied
from analytics.filters import ClosureFilter
from closures import operations
from closures.models import ClosureOwnerBandTally, ClosureOwnerTally, ClosureReason, ClosureStaffTally, ClosureTally
from closures.rules import ClosureChoice
from crm.models import DataScope
from tests.factories import ClosureFactory, CustomerFactory, TeamFactory, UserFactory

from .history import local

TODAY = date(2024, 5, 15)

PERIODS = {
    "mid-month to mid-month": {"period": "custom", "start": "2023-11-15", "end": "2024-02-14"},
    "whole months ending on a month's last day": {"period": "custom", "start": "2024-01-01", "end": "2024-03-31"},
    "ending on 31 January (a closure at 23:30)": {"period": "custom", "start": "2024-01-15", "end": "2024-01-31"},
    "starting on 1 February (a closure at 00:30)": {"period": "custom", "start": "2024-02-01", "end": "2024-02-10"},
    "across the year end": {"period": "custom", "start": "2023-12-20", "end": "2024-01-10"},
    "inside one month": {"period": "custom", "start": "2024-03-03", "end": "2024-03-20"},
    "from a month's second day": {"period": "custom", "start": "2023-11-02", "end": "2024-04-30"},
    "last 12 months": {"period": "12m"},
    "last 30 days": {"period": "30d"},
    "last 90 days": {"period": "90d"},
    "this year": {"period": "year"},
    "all time": {"period": "all"},
    "only an end date": {"period": "custom", "end": "2024-02-20"},
}


def _filters(h) -> dict:
    return {
        "no filter": {},
        "cards closed": {"action": "close"},
        "one category, reverted included": {"category": "service", "reverted": "1"},
        "one reason": {"reason": h.reasons["price"].pk},
        "a segment and a tenure band": {"segment": "regular", "tenure": "1to2y"},
        "one closer (staff tally)": {"by": h.staff[1].pk},
        "one closer and a reason": {"by": h.staff[2].pk, "reason": h.reasons["service"].pk},
        "one closer and a segment (closure table)": {"by": h.staff[0].pk, "segment": "key"},
        "one owner (closure table)": {"owner": h.owners[1].pk},
    }


FILTERS = [
    "no filter",
    "cards closed",
    "one category, reverted included",
    "one reason",
    "a segment and a tenure band",
    "one closer (staff tally)",
    "one closer and a reason",
    "one closer and a segment (closure table)",
    "one owner (closure table)",
]


def _compute(query: dict, today: date | None = TODAY, *, user=None, tallies=(ClosureTally, ClosureStaffTally)):
    cache.clear()  # each run counts its cards afresh (on PostgreSQL a cached count saves a query)
    fs = ClosureFilter(query, today=today, user=user)
    assert fs.is_valid(), fs.errors
    with CaptureQueriesContext(connection) as ctx:
        result = figures.compute(fs)
    tally_tables = [model._meta.db_table for model in tallies]
    return (
        result,
        sum(any(t in q["sql"] for t in tally_tables) for q in ctx.captured_queries),
        len(ctx.captured_queries),
    )


def _both(monkeypatch, query: dict, today: date | None = TODAY, **options):
    via_tally, tally_reads, n_queries = _compute(query, today, **options)
    with monkeypatch.context() as m:
        m.setattr(tallied, "TALLIES", ())
        via_rows, rows_tally_reads, n_raw_queries = _compute(query, today, **options)
    assert rows_tally_reads == 0
    assert n_queries == n_raw_queries, "the tallies change where numbers come from, not how many queries run"
    return via_tally, via_rows, tally_reads


@pytest.mark.parametrize("period", PERIODS, ids=list(PERIODS))
def test_every_period_gives_the_same_figures_from_the_tallies_as_from_the_closures(period, history, monkeypatch):
    via_tally, via_rows, tally_reads = _both(monkeypatch, PERIODS[period])
    assert via_tally == via_rows
    assert tally_reads > 0


@pytest.mark.parametrize("name", FILTERS)
def test_every_filter_gives_the_same_figures_from_the_tallies_as_from_the_closures(name, history, monkeypatch):
    for period in ("mid-month to mid-month", "whole months ending on a month's last day", "all time"):
        query = {**PERIODS[period], **_filters(history)[name]}
        via_tally, via_rows, _reads = _both(monkeypatch, query)
        assert via_tally == via_rows, (period, name)
    assert via_rows.total > 0, "the filter must select something to prove anything"


@pytest.mark.parametrize(
    "name",
    ["no filter", "cards closed", "one category, reverted included", "one reason", "a segment and a tenure band"],
)
def test_a_data_scope_gives_the_same_figures_from_the_owner_tallies_as_from_the_closures(name, history, monkeypatch):
    """A Manager scoped to their team (two of the three owners): whole months from the owner
    tallies, the rest from the closure table, equal to the closure table alone, and fewer than
    everyone's."""
    monkeypatch.setattr(held, "LIMIT", 0)  # the figures' SQL, not the closures held in memory
    manager = UserFactory(username="team_lead", role="Manager")
    TeamFactory(members=history.owners[:2], manager=manager)
    DataScope.objects.create(role="Manager", scope="team")
    owner_tallies = {"tallies": (ClosureOwnerTally, ClosureOwnerBandTally), "user": manager}
    for period in ("mid-month to mid-month", "whole months ending on a month's last day", "all time"):
        query = {**PERIODS[period], **_filters(history)[name]}
        via_tally, via_rows, reads = _both(monkeypatch, query, **owner_tallies)
        assert via_tally == via_rows, (period, name)
        assert reads > 0, "the owner tallies serve the scope"
    assert via_tally.total > 0, "the filter must select something to prove anything"
    everyone, team = _compute(PERIODS["all time"])[0], _compute(PERIODS["all time"], user=manager)[0]
    assert 0 < team.total < everyone.total and team.churn.current.population < everyone.churn.current.population


def test_filters_the_tallies_cannot_serve_read_the_closure_table(history, monkeypatch):
    """An owner is not in any tally: every closure count reads the closure table (the pending
    approvals and reason labels never did)."""
    query = {**PERIODS["mid-month to mid-month"], "owner": history.owners[0].pk}
    assert _both(monkeypatch, query)[2] == 0
    query = {**PERIODS["mid-month to mid-month"], "by": history.staff[0].pk}
    assert _both(monkeypatch, query)[2] > 0


def test_whole_months_are_read_from_the_tally(history):
    """Proof that the tally is what the dashboard reads: a tally counted wrong shows on the figures."""
    query = PERIODS["whole months ending on a month's last day"]
    right = _compute(query)[0]
    ClosureTally.objects.filter(month=2024 * 12 + 1, reverted_month=0).update(n=0)  # February forgotten
    wrong = _compute(query)[0]
    february = next(m for m in right.months if m.first == date(2024, 2, 1))
    assert february.total > 0
    assert wrong.total == right.total - february.total


def test_the_current_month_up_to_now_is_read_from_the_tally(db, monkeypatch):
    """A period that reaches past the present counts the current month as whole: no closure lies after now."""
    now = timezone.localtime()
    customers = [CustomerFactory(created_at=now - timedelta(days=800)) for _ in range(6)]
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ClosureFactory(customer=customers[0], performed_at=max(now - timedelta(minutes=5), month_start))
    ClosureFactory(customer=customers[1], performed_at=month_start)
    ClosureFactory(customer=customers[2], performed_at=now - timedelta(days=40), reverted_at=now - timedelta(minutes=1))
    ClosureFactory(customer=customers[3], performed_at=now - timedelta(days=200), action="void")
    ClosureFactory(customer=customers[4], performed_at=now - timedelta(days=400))
    for period in ("12m", "30d", "year", "all"):
        via_tally, via_rows, _reads = _both(monkeypatch, {"period": period}, today=None)
        assert via_tally == via_rows, period
    twelve = _compute({"period": "12m"}, today=None)[0]
    assert (twelve.total, twelve.reinstated, twelve.churn.current.churned) == (3, 1, 2)
    assert twelve.churn.current.active_at_start == 5
    # Read from the tally, not the closure table: a miscounted current month shows.
    ClosureTally.objects.filter(month=now.year * 12 + now.month - 1, reverted_month=0).update(n=0)
    assert _compute({"period": "12m"}, today=None)[0].total == 1


def test_active_cards_at_a_mid_month_start_from_the_tally_equal_the_closure_table(db, monkeypatch):
    """Cards closed before the start, reinstated before it, after it, or closed in the start's own month."""
    cards = [CustomerFactory(created_at=local(2023, 1, 1)) for _ in range(8)]
    ClosureFactory(customer=cards[0], performed_at=local(2024, 2, 20))  # a whole month before: in force
    ClosureFactory(
        customer=cards[1], performed_at=local(2024, 2, 1), reverted_at=local(2024, 3, 2)
    )  # reverted in March, before the 10th
    ClosureFactory(customer=cards[2], performed_at=local(2024, 2, 1), reverted_at=local(2024, 3, 12))  # reverted after
    ClosureFactory(customer=cards[3], performed_at=local(2024, 3, 9, 23, 59))  # the start's month, before it
    ClosureFactory(customer=cards[4], performed_at=local(2024, 3, 10, 0, 1))  # after the start
    ClosureFactory(
        customer=cards[5], performed_at=local(2024, 3, 3), reverted_at=local(2024, 3, 5)
    )  # both in the month

    via_tally, via_rows, _reads = _both(monkeypatch, {"period": "custom", "start": "2024-03-10", "end": "2024-03-31"})

    assert via_tally == via_rows
    assert via_tally.churn.current.active_at_start == 8 - 3  # cards 0, 2 and 3 were closed at the start
    assert via_tally.reinstated == 1  # card 2, on the 12th


def test_a_closure_reinstated_through_the_operations_leaves_no_trace_in_the_period_it_left(
    db, monkeypatch, staff_user, manager_user
):
    """Its tally row is counted down to zero, not deleted: the figures must not show an empty bar for it."""
    reason = ClosureReason.objects.get(code="price")
    card = CustomerFactory(created_at=local(2023, 1, 1))
    monkeypatch.setattr(timezone, "now", lambda: local(2024, 2, 10, 12))
    operations.close_customer(card, ClosureChoice("close", reason), by=staff_user)
    monkeypatch.setattr(timezone, "now", lambda: local(2024, 3, 5, 12))
    operations.reinstate(card, by=manager_user, note="客户回来了")
    monkeypatch.undo()
    assert ClosureTally.objects.filter(n=0).exists()

    query = {"period": "custom", "start": "2024-01-01", "end": "2024-03-31"}
    via_tally, via_rows, _reads = _both(monkeypatch, query)

    assert via_tally == via_rows
    assert (via_tally.total, via_tally.reinstated) == (0, 1)
    assert all(not month.counts for month in via_tally.months)
    assert via_tally.by_reason == [] and via_tally.trend_categories == []
