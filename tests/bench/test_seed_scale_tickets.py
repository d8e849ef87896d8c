"""seed_scale's tickets: shaped the way the ticket operations and the SLA clock leave them, heavy-tailed
over the cards, and added to an older data set without reloading its cards. Loaded small (200 cards,
2,000 tickets); the benchmark loads 2,000,000 with the same code."""

import datetime as dt
import io
import json
import random
import re
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F

from bench.management.commands.seed_scale import Command as SeedScale
from bench.scale import load
from bench.scale.marker import MARKER, VERSION, read_marker
from bench.scale.tickets import WorkClock
from closures.models import Closure
from crm.models import Team
from customers.models import Customer
from service.calendar import Calendar
from service.models import OPEN_STATUSES, Step, Ticket, TicketNumber
from service.states import TRANSITIONS
from tests.module_data import kept_for_module

CARDS, CLOSURES, TICKETS = 200, 60, 2000
ZONE = dt.timezone(dt.timedelta(hours=8))


def seed(**options) -> str:
    out = io.StringIO()
    sizes = {"customers": CARDS, "closures": CLOSURES, "tickets": TICKETS}
    call_command(SeedScale(), nice=0, stdout=out, **(sizes | options))
    return out.getvalue()


def allowed_changes() -> set[tuple[str, str]]:
    """(old, new) status pairs the state machine allows (service/states.py): a fixed target, or what
    the operation decides (assigning keeps the status or makes it assigned, hand-offs and reopening
    make it assigned or new, a step starts a new or assigned ticket)."""
    decided = {"assign": {"assigned"}, "hand_off": {"assigned", "new"}, "step": {"in_progress"},
               "reopen": {"assigned", "new"}, "change_sla": set()}  # fmt: skip
    pairs = set()
    for operation, (sources, target) in TRANSITIONS.items():
        for source in sources:
            for new in {target} if target else decided[operation]:
                pairs.add((source, new))
    return pairs


@pytest.mark.parametrize("calendar", [
    Calendar(),
    Calendar(holidays=frozenset({dt.date(2026, 10, 1), dt.date(2026, 10, 2)}), working_days={dt.date(2026, 10, 10)}),
    Calendar(starts=dt.time(8, 30), ends=dt.time(17, 0), weekdays=frozenset({1, 2, 3, 4, 5, 6})),
])  # fmt: skip
def test_the_fast_working_clock_counts_as_the_service_calendar_does(calendar):
    clock = WorkClock(calendar, int(dt.datetime(2026, 9, 1, tzinfo=dt.UTC).timestamp()))
    rng = random.Random(7)
    for _i in range(400):
        start = dt.datetime(2026, 9, 20, tzinfo=ZONE) + dt.timedelta(minutes=rng.randrange(0, 40 * 24 * 60))
        minutes = rng.choice([0, 1, 60, 540, 541, 1080, 2700, 5400, rng.randrange(1, 9000)])
        moment = int(start.timestamp())
        assert clock.add(moment, minutes) == int(calendar.add(start, minutes).timestamp()), (start, minutes)
        end = start + dt.timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
        assert clock.between(moment, int(end.timestamp())) == calendar.between(start, end), (start, end)


@pytest.fixture(scope="class")
def loaded(django_db_setup, django_db_blocker):
    """Loaded once for the class (tests/module_data.py); a test that reloads is undone after it."""
    with kept_for_module(django_db_blocker):
        yield seed()


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.xdist_group("seed_scale_tickets")
class TestTickets:
    @pytest.fixture(autouse=True)
    def output(self, loaded):
        self.output = loaded

    def test_the_asked_numbers_are_loaded_and_recorded_in_the_marker(self):
        steps = Step.objects.count()
        assert Ticket.objects.count() == TICKETS
        assert 0.97 * 3 * TICKETS <= steps <= 1.03 * 3 * TICKETS
        marker = read_marker()
        assert marker["version"] == VERSION == 3
        assert (marker["tickets"], marker["steps"]) == (TICKETS, 3 * TICKETS)
        assert (marker["ticket_rows"], marker["step_rows"]) == (TICKETS, steps)

    def test_most_cards_have_no_ticket_and_a_few_have_many(self):
        per_card = list(Ticket.objects.values("customer").annotate(n=Count("id")).values_list("n", flat=True))
        assert len(per_card) < 0.6 * CARDS
        assert max(per_card) >= 5 * TICKETS / CARDS

    def test_numbers_are_unique_per_year_in_opening_order_and_the_counters_hold_the_last(self):
        rows = list(Ticket.objects.order_by("pk").values_list("pk", "number", "created_at"))
        assert [r[2] for r in rows] == sorted(r[2] for r in rows)  # ids in opening order
        by_year = defaultdict(list)
        for _pk, number, created in rows:
            match = re.fullmatch(r"S(\d{4})-(\d{6})", number)
            assert match, number
            assert int(match[1]) == created.astimezone(ZONE).year
            by_year[int(match[1])].append(int(match[2]))
        for year, seqs in by_year.items():
            assert seqs == list(range(1, len(seqs) + 1)), year
        assert dict(TicketNumber.objects.values_list("year", "last")) == {y: len(s) for y, s in by_year.items()}

    def test_each_status_has_the_moments_and_people_it_implies(self):
        tickets = Ticket.objects.all()
        done = tickets.filter(status__in=["resolved", "closed"])
        assert not done.filter(resolved_at=None).exists() and not done.filter(first_response_at=None).exists()
        assert not done.filter(first_response_at__gt=F("resolved_at")).exists()
        assert not tickets.filter(status="closed").filter(closed_at=None).exists()
        assert not tickets.filter(closed_at__lt=F("resolved_at")).exists()
        assert not tickets.exclude(status="closed").filter(closed_at__isnull=False).exists()
        assert not tickets.exclude(status__in=["resolved", "closed"]).filter(resolved_at__isnull=False).exists()
        assert not tickets.filter(status="new").filter(assignee__isnull=False).exists()
        assert not tickets.exclude(status="new").filter(assignee=None).exists()
        assert not tickets.filter(status__in=["new", "assigned"]).filter(first_response_at__isnull=False).exists()
        assert not tickets.filter(status="waiting").filter(paused_since=None).exists()
        assert not tickets.exclude(status="waiting").filter(paused_since__isnull=False).exists()
        shares = Counter(tickets.values_list("status", flat=True))
        open_share = sum(shares[s] for s in OPEN_STATUSES) / TICKETS
        assert 0.01 <= open_share <= 0.10, shares
        assert shares["resolved"] + shares["closed"] > 0.8 * TICKETS
        assert shares["waiting"] and shares["cancelled"]
        assert 0.02 <= tickets.filter(reopen_count__gt=0).count() / TICKETS <= 0.10

    def test_breaches_are_the_moments_after_their_due_times_about_one_in_ten(self):
        tickets = Ticket.objects.all()
        for ticket in tickets:
            late_response = (
                ticket.first_response_at is not None and ticket.first_response_at > ticket.first_response_due
            )
            late_resolution = ticket.resolved_at is not None and ticket.resolved_at > ticket.resolution_due
            assert (ticket.first_response_breached, ticket.resolution_breached) == (late_response, late_resolution)
        breached = tickets.filter(first_response_breached=True) | tickets.filter(resolution_breached=True)
        assert 0.05 <= breached.count() / TICKETS <= 0.16

    def test_due_times_are_the_policy_targets_in_working_time(self):
        calendar = Calendar()
        for ticket in Ticket.objects.select_related("sla_policy").order_by("?")[:200]:
            policy = ticket.sla_policy
            assert (ticket.first_response_minutes, ticket.resolution_minutes) == (
                policy.first_response_minutes,
                policy.resolution_minutes,
            )
            assert policy.priority == ticket.priority
            assert ticket.first_response_due == calendar.add(ticket.created_at, ticket.first_response_minutes)
            expected = calendar.add(ticket.created_at, ticket.resolution_minutes + ticket.paused_minutes)
            assert ticket.resolution_due == expected

    def test_steps_follow_the_state_machine_to_the_tickets_status(self):
        pairs = allowed_changes()
        steps = defaultdict(list)
        for step in Step.objects.order_by("happened_at", "pk"):
            steps[step.ticket_id].append(step)
        kinds = Counter()
        for ticket in Ticket.objects.all():
            mine = steps[ticket.pk]
            assert 1 <= len(mine) <= 6, ticket.number
            status = "new" if ticket.status == "new" else "assigned"
            for step in mine:
                kinds[step.kind] += 1
                assert ticket.created_at <= step.happened_at <= (ticket.closed_at or ticket.updated_at)
                if step.new_status and step.old_status:
                    assert step.old_status == status, (ticket.number, step.kind)
                    assert (step.old_status, step.new_status) in pairs, (
                        ticket.number,
                        step.old_status,
                        step.new_status,
                    )
                if step.new_status:
                    status = step.new_status
                assert (step.kind == "handoff") == (step.to_team_id is not None)
            assert status == ticket.status, ticket.number
            replies = [s.happened_at for s in mine if s.kind == "reply"]
            if replies:
                assert ticket.first_response_at == replies[0]
        assert set(kinds) == {"work", "reply", "note", "handoff", "status"}

    def test_teams_have_members_and_every_ticket_is_with_a_member_of_its_team(self):
        teams = Team.objects.filter(name_en__in=["Customer service", "After-sales repair", "Store service"])
        assert teams.count() == 3 and all(team.members.exists() for team in teams)
        assert Team.objects.count() == 5
        for ticket in Ticket.objects.filter(assignee__isnull=False).select_related("team")[:300]:
            assert ticket.team.members.filter(pk=ticket.assignee_id).exists(), ticket.number
        assert Ticket.objects.filter(assignee__username="scale_staff01").count() > TICKETS / 100

    def test_a_card_closed_for_good_has_no_open_ticket_and_none_opened_after_its_closure(self):
        closures = Closure.objects.filter(reverted_at=None)
        assert closures.exists()
        for closure in closures:
            tickets = Ticket.objects.filter(customer_id=closure.customer_id)
            assert not tickets.filter(status__in=OPEN_STATUSES).exists()
            assert not tickets.filter(created_at__gt=closure.performed_at).exists()

    def test_each_tickets_closed_within_90_days_flag_is_set_from_the_closures(self):
        assert_flags_match_the_closures()

    def test_an_older_data_set_gets_only_its_tickets(self):
        cards = list(Customer.objects.order_by("pk").values_list("pk", "name", "created_at"))
        marker = read_marker() | {"version": 2}
        for key in ("tickets", "steps", "ticket_rows", "step_rows"):
            marker.pop(key)
        with connection.cursor() as cursor:
            cursor.execute("COMMENT ON TABLE customers_customer IS %s", [MARKER + json.dumps(marker)])
        out = seed()
        assert "replacing only the tickets" in out
        assert list(Customer.objects.order_by("pk").values_list("pk", "name", "created_at")) == cards
        assert Ticket.objects.count() == TICKETS and Step.objects.exists()
        assert read_marker()["version"] == VERSION and read_marker()["ticket_rows"] == TICKETS
        assert "nothing to do" in seed()

    def test_another_number_of_tickets_replaces_only_the_tickets(self):
        cards = list(Customer.objects.order_by("pk").values_list("pk", "name"))
        out = seed(tickets=500)
        assert "replacing only the tickets" in out
        assert Ticket.objects.count() == 500 and max(Ticket.objects.values_list("pk", flat=True)) == 500
        assert sum(TicketNumber.objects.values_list("last", flat=True)) == 500
        assert list(Customer.objects.order_by("pk").values_list("pk", "name")) == cards
        assert_flags_match_the_closures()


def assert_flags_match_the_closures() -> None:
    """Ticket.closed_within_90 as the closure writes keep it (closures/ticket_flags.py), recounted."""
    closures = defaultdict(list)
    for closure in Closure.objects.filter(action="close", reverted_at=None):
        closures[closure.customer_id].append(closure.performed_at)
    flags = {
        t.pk: any(t.created_at <= at < t.created_at + dt.timedelta(days=90) for at in closures[t.customer_id])
        for t in Ticket.objects.all()
    }
    assert any(flags.values())
    assert dict(Ticket.objects.values_list("pk", "closed_within_90")) == flags


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_service_summary_is_rebuilt_when_its_command_exists(monkeypatch):
    called = []
    monkeypatch.setattr(load, "get_commands", lambda: {load.SUMMARY_COMMAND: "service"})
    monkeypatch.setattr(load, "call_command", lambda name, **kwargs: called.append(name))
    seed(tickets=100)
    assert called == ["rebuild_service_summary"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_without_the_summary_command_the_load_says_so(monkeypatch):
    monkeypatch.setattr(load, "get_commands", lambda: {})
    assert "no rebuild_service_summary command (yet)" in seed(tickets=100)
