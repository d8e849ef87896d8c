"""The service dashboard's summary stays equal to a recount of the tickets, whatever the ticket
operations do: open, take, steps and replies, waiting and resuming, resolving on time and late,
reopening, closing, cancelling, hand-offs, SLA changes and tickets opened with a past date (an
import), across a day's end in local time (SQLite, and PostgreSQL with DATABASE_URL)."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from customers import gate
from service import operations, tally
from service.models import (
    Category,
    ServiceMonthTally,
    ServiceMonthTimeTally,
    ServiceTally,
    ServiceTimeTally,
    Ticket,
)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def at(monkeypatch):
    def travel(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return travel


def assert_summary_matches_a_recount():
    counts, times, owner_counts, owner_times = tally.recount(owners=True)
    assert tally.stored() == (counts, times)
    assert tally.stored(months=True) == tally.monthly(counts, times)  # each month row sums its days
    # The owner tables: the same counts under the card's owner now.
    assert tally.stored(owners=True) == (owner_counts, owner_times)
    assert tally.stored(months=True, owners=True) == tally.monthly(owner_counts, owner_times, day_at=1)
    assert sum(owner_counts.values()) == sum(counts.values()) and sum(owner_times.values()) == sum(times.values())


def _open(desk, category, **kwargs):
    values = {"subject": "洗衣机漏水", "category": category, "channel": "phone", "priority": "high"}
    return operations.open_ticket(desk["card"], by=desk["agent"], **{**values, **kwargs})


def test_the_summary_equals_a_recount_after_every_kind_of_operation(desk, complaint, at):
    repair = Category.objects.get(key="repair")
    agent, fixer, boss = desk["agent"], desk["fixer"], desk["manager"]
    at(local(2026, 3, 2, 9, 30))  # a Monday
    on_time = _open(desk, complaint)
    late = _open(desk, repair, channel="wechat", priority="urgent", team=desk["desk"])
    waiting = _open(desk, complaint, priority="normal", assignee=agent)
    doomed = _open(desk, complaint)  # the same key as on_time
    assert_summary_matches_a_recount()
    assert ServiceTally.objects.filter(opened__gt=0).count() == 3  # two tickets share a key

    operations.take(on_time, by=agent)
    operations.add_step(on_time, by=agent, kind="reply", content="已约明天上门")
    operations.add_step(late, by=agent, kind="work", content="查看记录")
    operations.wait_for_customer(waiting, by=agent, note="等客户发照片")
    assert_summary_matches_a_recount()

    at(local(2026, 3, 2, 23, 50))  # the last minutes of a local day
    operations.resolve(on_time, by=agent, note="更换进水阀")
    operations.cancel(doomed, by=agent, note="重复")
    assert_summary_matches_a_recount()

    at(local(2026, 3, 4, 10, 0))  # two working days later: the urgent ticket is late
    operations.hand_off(late, to_team=desk["after_sales"], by=agent, note="请售后上门")
    operations.change_sla(waiting, by=boss, first_response_minutes=30, resolution_minutes=600, note="VIP")
    operations.resume(waiting, by=agent)
    operations.add_step(waiting, by=agent, kind="reply", content="收到照片")
    assert_summary_matches_a_recount()
    operations.take(late, by=fixer)
    operations.resolve(late, by=fixer, note="已修好")
    operations.close(on_time, by=agent)
    assert_summary_matches_a_recount()

    at(local(2026, 3, 5, 11, 0))
    operations.reopen(on_time, by=agent, note="又漏了")
    operations.reopen(late, by=fixer, note="客户不满意")
    assert_summary_matches_a_recount()
    operations.resolve(on_time, by=agent, note="换了整机")
    operations.resolve(waiting, by=agent, note="好了")
    # An imported ticket: opened long ago, worked and resolved today.
    old = _open(desk, complaint, channel="store", created_at=local(2025, 12, 30, 16, 0), team=desk["after_sales"])
    operations.resolve(old, by=boss, note="历史单")
    assert_summary_matches_a_recount()

    # The card changes hands, and later its tickets move to another card: the owner rows follow.
    gate.update_card(desk["card"], {"owner": agent}, by=boss, source=gate.FORM)
    assert_summary_matches_a_recount()
    assert {key[0] for key in tally.stored(owners=True)[0]} == {agent.pk}
    other = CustomerFactory(customer_no="C000202", owner=fixer)
    operations.move_tickets(desk["card"], other, by=boss)
    assert_summary_matches_a_recount()
    assert {key[0] for key in tally.stored(owners=True)[0]} == {fixer.pk}
    gate.update_card(other, {"owner": None}, by=boss, source=gate.FORM)
    assert_summary_matches_a_recount()
    assert {key[0] for key in tally.stored(owners=True)[0]} == {0}

    counts, times = tally.stored()
    assert sum(n for key, n in counts.items() if key[-1] == "opened") == 5
    assert sum(n for key, n in counts.items() if key[-1] == "backlog") == 1  # only ``late`` is open
    assert sum(n for key, n in counts.items() if key[-1] == "reopened") == 2
    assert sum(n for key, n in counts.items() if key[-1] == "cancelled") == 1
    assert sum(n for key, n in times.items() if key[5] == tally.RESOLUTION) == 3
    month_counts, _ = tally.stored(months=True)
    march = date(2026, 3, 1)
    assert {key[0] for key in month_counts} == {date(2025, 12, 1), march}
    assert sum(n for key, n in month_counts.items() if key[0] == march and key[-1] == "opened") == 4
    # ``old`` opened in December and was resolved in March: +1 and -1 in different month rows.
    assert sum(n for key, n in month_counts.items() if key[0] == march and key[-1] == "backlog") == 0


def test_the_rebuild_command_recounts_a_damaged_summary(desk, complaint, at):
    at(local(2026, 3, 2, 9, 30))
    ticket = _open(desk, complaint)
    operations.resolve(ticket, by=desk["agent"], note="done")
    expected, expected_months = tally.stored(), tally.stored(months=True)
    ServiceTally.objects.update(opened=7, backlog=3)
    ServiceTimeTally.objects.all().delete()
    ServiceMonthTally.objects.update(resolved=5)
    ServiceMonthTimeTally.objects.update(b3=9)
    out = io.StringIO()
    call_command("rebuild_service_summary", stdout=out)
    assert tally.stored() == expected == tally.recount()
    assert tally.stored(months=True) == expected_months == tally.monthly(*tally.recount())
    assert sum(expected_months[0].values()) > 0
    assert "Service summary rebuilt" in out.getvalue()


@pytest.mark.parametrize("minutes", [0, 4.9, 5, 6.24, 6.25, 60, 599, 540 * 5, 10**9])
def test_a_time_falls_in_the_bucket_that_holds_it(minutes):
    low, high = tally.bucket_bounds(tally.bucket_of(minutes))
    assert low <= minutes < high or tally.bucket_of(minutes) == tally.BUCKETS - 1


def test_percentiles_from_buckets_lie_within_a_quarter_of_the_exact_value():
    values = [3, 17, 45, 45, 60, 120, 300, 540, 541, 1000, 2700, 9000]
    counts = {}
    for v in values:
        counts[tally.bucket_of(v)] = counts.get(tally.bucket_of(v), 0) + 1
    for q in (0.5, 0.9):
        exact = sorted(values)[max(0, int(-(-q * len(values) // 1)) - 1)]
        estimate = tally.percentile(counts, q)
        low, high = tally.bucket_bounds(tally.bucket_of(exact))
        assert low <= estimate <= high
    assert tally.percentile({}, 0.5) is None


def test_tickets_written_without_the_operations_are_counted_by_added(desk, complaint, at):
    at(local(2026, 3, 2, 9, 30))
    _open(desk, complaint)
    rows = [
        Ticket(
            number=f"S2025-9{i:05d}",
            customer=desk["card"],
            category=complaint,
            subject="历史单",
            status="closed",
            created_at=local(2025, 6, 2 + i, 10, 0),
            first_response_at=local(2025, 6, 2 + i, 11, 0),
            resolved_at=local(2025, 6, 3 + i, 10, 0),
            closed_at=local(2025, 6, 4 + i, 10, 0),
            first_response_minutes=120,
            resolution_minutes=1080,
        )
        for i in range(3)
    ]
    Ticket.objects.bulk_create(rows)
    assert tally.stored() != tally.recount()
    tally.added(rows)
    assert_summary_matches_a_recount()
    june = [key for key in tally.stored(months=True)[0] if key[0] == date(2025, 6, 1) and key[-1] == "opened"]
    assert len(june) == 1
