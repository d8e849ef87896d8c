"""The tickets (处理单) of the scale data set and the steps of their service process (seed_scale).

Who has tickets: most cards none, a few many. Each card gets a weight, zero for about 55 % of
them, otherwise a Pareto draw (a heavy tail, capped) times the years it was a customer in the
three years the closures span; cards later closed for a service reason weigh three times as much,
and half of their tickets fall in the 120 days before the closure (churn after service). The
tickets are then drawn over the cards by weight, so the requested number is met exactly.

Each ticket is opened at a moment in its card's time, and tickets get their ids and their numbers
(S<year>-<seq>, the year in the local time zone, as service.operations.next_number counts them) in
the order they were opened; service.TicketNumber holds each year's last number. Then its story:

- category, channel, priority (normal most), the team of its category (bench/scale/service_vocab.py),
  an assignee among the team's members (a few do most of the work);
- its SLA targets from the active policy (service/sla.py ``policy_for``: the priority's, or the
  category's), due times counted by :class:`WorkClock` in the calendar's working time;
- first response and resolution at a number of working minutes from opening: within the target,
  or (about 6 % and 7 %, correlated, a tenth of tickets in all) beyond it; the breach flags are then
  exactly "the moment is after its due time", as ``sla.responded`` / ``sla.resolved`` decide;
- about 30 % resolved at the first contact (the resolution is the first response), 12 % waiting
  for the customer a while (the resolution clock pauses: ``paused_minutes``), 8 % handed to
  another team, 5 % reopened (the time spent resolved counts as a pause, as ``sla.reopened`` does);
- open when recent: the open backlog is about 4 % (new, assigned, in progress, waiting), older
  tickets resolved or closed (closed some days after the resolution), a few cancelled; a card
  closed or voided has no open ticket: what was still open was resolved or cancelled at its closure;
- steps (1 to 6, about 3 on average): the ones the story needs (the reply that was the first
  response, the hand-off, waiting and resuming, the resolution, reopening, closing, cancelling),
  then work done, internal notes or the opening note, as many as keep the average where asked.
  Each step's old and new status follow the state machine (service/states.py), as the operations
  (service/operations.py) write them. The seeded history is shorter than the operations would
  leave: assigning and taking leave no step, and the opening step is there only sometimes.

No audit entries and no outbox events for the seeded tickets: they are history, like the closures'
follow-ups. A mixin of :class:`bench.scale.load.Loader` (``now``, ``wanted``, ``staff_ids``,
``manager_ids``, ``copier``, ``say``); the generating is Python, streamed to COPY in chunks.
"""

import random
import time
from array import array
from datetime import datetime

from django.core.management.base import CommandError

from closures.models import Closure
from crm.models import Team
from customers.models import Customer
from service import calendar as service_calendar
from service.models import Category, SlaPolicy, Step, Ticket, TicketNumber

from . import service_vocab as words
from . import ticket_story as story
from .pgcopy import esc, ts
from .plan import DAY, YEAR
from .vocab import cumulative, zipf

NO_TICKETS = 0.55  # share of cards that never had a ticket (weight zero)
PARETO_ALPHA, WEIGHT_CAP = 1.3, 25.0


class WorkClock:
    """service/calendar.py's arithmetic in whole seconds, fast enough for millions of due times: the
    same working days (weekdays, holidays, make-up days) and hours, with local time as the zone's
    offset at the load (exact for Asia/Shanghai, which has no daylight saving time)."""

    def __init__(self, calendar: service_calendar.Calendar, at: int):
        self.offset = int(datetime.fromtimestamp(at, calendar.zone).utcoffset().total_seconds())
        self.opens = calendar.starts.hour * 3600 + calendar.starts.minute * 60
        self.closes = calendar.ends.hour * 3600 + calendar.ends.minute * 60
        epoch = datetime(1970, 1, 1).date().toordinal()
        self.weekdays = frozenset(calendar.weekdays)
        self.holidays = frozenset(day.toordinal() - epoch for day in calendar.holidays)
        self.working_days = frozenset(day.toordinal() - epoch for day in calendar.working_days)

    def working(self, day: int) -> bool:
        if day in self.working_days:
            return True
        return day not in self.holidays and (day + 3) % 7 + 1 in self.weekdays  # day 0 was a Thursday

    def add(self, start: int, minutes: int | float) -> int:
        """The moment ``minutes`` working minutes after ``start`` (0: the next working moment)."""
        day, second = divmod(start + self.offset, DAY)
        remaining = int(minutes * 60)
        opens, closes = self.opens, self.closes
        for _i in range(3 * 366 * 10):
            if self.working(day):
                begin = second if second > opens else opens
                if begin < closes:
                    if remaining <= closes - begin:
                        return day * DAY + begin + remaining - self.offset
                    remaining -= closes - begin
            day, second = day + 1, 0
        raise CommandError("The working calendar has no working day.")

    def between(self, start: int, end: int) -> int:
        """Working minutes from ``start`` to ``end``."""
        if end <= start:
            return 0
        total = 0
        day, second = divmod(start + self.offset, DAY)
        last, last_second = divmod(end + self.offset, DAY)
        while day <= last:
            if self.working(day):
                begin = max(self.opens, second)
                finish = min(self.closes, last_second if day == last else DAY)
                total += max(0, finish - begin)
            day, second = day + 1, 0
        return total // 60


class TicketRows:
    # --- before the transaction ------------------------------------------------------------------
    def service_setup(self) -> None:
        """The teams (with staff and a manager each), the categories, the policies and the clock."""
        self.trng = random.Random(self.wanted["seed"] + 3)  # the same tickets however they are loaded
        by_number = {int(name[-2:]): pk for pk, name in self.usernames.items() if name.startswith("scale_staff")}
        managers = {int(name[-2:]): pk for pk, name in self.usernames.items() if name.startswith("scale_manager")}
        self.teams = []  # (team id, [member ids, busiest first], their cumulative weights)
        for name_en, name_zh, staff, manager in words.TEAMS:
            team, _created = Team.objects.get_or_create(name_en=name_en, defaults={"name_zh": name_zh})
            members = [by_number[n] for n in staff if n in by_number] or list(by_number.values())[:3]
            team.members.add(*members, *([managers[manager]] if manager in managers else []))
            self.teams.append((team.pk, members, cumulative(zipf(len(members), s=0.7))))
        categories = {c.key: c for c in Category.objects.filter(active=True)}
        if not categories:
            raise CommandError("No ticket categories: run `manage.py migrate` (service seeds the defaults).")
        weights = words.CATEGORY_WEIGHTS
        self.categories = [(c, *words.FIRST_TEAM.get(key, ([words.CS], [1]))) for key, c in categories.items()]
        self.category_cum = cumulative(weights.get(key, 3) for key in categories)
        self.policies = {(p.priority, p.category_id): p for p in SlaPolicy.objects.filter(active=True)}
        self.clock = WorkClock(service_calendar.current(), self.now)
        self.say(f"{len(self.teams)} teams, {len(categories)} ticket categories, {len(self.policies)} SLA policies")

    # --- inside the transaction ------------------------------------------------------------------
    def tickets(self, cursor) -> None:
        """Plan who has tickets and when, then write tickets and steps in opening order, in chunks."""
        wanted = self.wanted.get("tickets", 0)
        self.ticket_count = self.step_count = 0
        if not wanted:
            return
        keys, self.ticket_cards = self.ticket_times(cursor, wanted)
        tickets, steps = self.copier(cursor, Ticket), self.copier(cursor, Step)
        self.step_target = self.wanted.get("steps", 3 * wanted)
        self.required_mean, self.seq = 3.0, {}
        self.shares = {"open": 0, "breached": 0, "reopened": 0, "waiting": 0}
        ticket_lines, step_lines = [], []
        base = self.ticket_cards[3]
        for position, key in enumerate(keys):
            opened, index = divmod(key, base)
            self.ticket(position + 1, index, opened, len(keys) - position, ticket_lines, step_lines, tickets, steps)
            if len(ticket_lines) >= self.chunk:
                tickets.write(ticket_lines)
                steps.write(step_lines)
                ticket_lines, step_lines = [], []
                if tickets.rows % (10 * self.chunk) == 0:
                    self.say(f"tickets {tickets.rows:,} / steps {steps.rows:,}")
        tickets.write(ticket_lines)
        steps.write(step_lines)
        del keys
        counters = self.copier(cursor, TicketNumber)
        counters.write([counters.line({"year": str(y), "last": str(n)}) for y, n in sorted(self.seq.items())])
        self.ticket_count, self.step_count = tickets.rows, steps.rows
        shares = ", ".join(f"{k} {v / tickets.rows:.1%}" for k, v in self.shares.items())
        self.say(f"tickets {tickets.rows:,}, steps {steps.rows:,} ({shares}); ticket numbers {dict(self.seq)}")

    def ticket_times(self, cursor, wanted: int):
        """Every card's window and weight (streamed from the loaded cards and closures), then the
        opening moments of ``wanted`` tickets drawn over them, sorted: keys ``opened * base + card``."""
        rng = self.trng
        ids, ends, flags = array("q"), array("q"), array("b")
        cum, total = [], 0.0
        first = self.now - 3 * YEAR
        query = f"""SELECT c.id, extract(epoch FROM c.created_at)::bigint,
                           coalesce(extract(epoch FROM k.performed_at)::bigint, 0), coalesce(k.category, ''),
                           c.segment = 'key'
                    FROM {Customer._meta.db_table} c
                    LEFT JOIN {Closure._meta.db_table} k ON k.customer_id = c.id AND k.reverted_at IS NULL
                    ORDER BY c.id"""
        starts = array("q")
        with cursor.connection.cursor(name="scale_ticket_cards") as cards:
            cards.itersize = 50_000
            cards.execute(query)
            for cid, created, end, category, key_account in cards:
                lo, hi = max(created + DAY, first), (end or self.now - 600)
                service = category == "service"
                weight = 0.0
                if hi - lo > 2 * DAY and (service or rng.random() >= NO_TICKETS):
                    weight = min(WEIGHT_CAP, (1.0 - rng.random()) ** (-1 / PARETO_ALPHA))
                    weight *= (3 if service else 1) * (1.5 if key_account else 1) * (hi - lo) / YEAR
                total += weight
                cum.append(total)
                ids.append(cid)
                starts.append(lo)
                ends.append(end)
                flags.append(1 if service else 0)
        if total <= 0:
            raise CommandError("No card can have tickets (are customers and closures loaded?).")
        base = len(ids) + 1
        keys = []
        for index in rng.choices(range(len(ids)), cum_weights=cum, k=wanted):
            lo, hi = starts[index], ends[index] or self.now - 600
            if flags[index] and rng.random() < 0.5:
                lo = max(lo, hi - 120 * DAY)
            keys.append(int(lo + rng.random() * (hi - lo)) * base + index)
        del cum
        keys.sort()
        holders = len({k % base for k in keys})
        self.say(f"tickets planned over {holders:,} of {len(ids):,} cards ({holders / len(ids):.0%})")
        return keys, (ids, ends, flags, base)

    # --- one ticket ------------------------------------------------------------------------------
    def ticket(self, pk, index, opened, left, ticket_lines, step_lines, tickets, steps) -> None:
        rng, rnd = self.trng, self.trng.random
        ids, ends, flags, _base = self.ticket_cards
        cid, card_end = ids[index], ends[index]
        category, team_choices, team_weights = rng.choices(self.categories, cum_weights=self.category_cum)[0]
        channel = rng.choices(words.CHANNELS, cum_weights=words.CHANNEL_CUM)[0]
        priority = rng.choices(words.PRIORITIES, cum_weights=words.PRIORITY_CUM)[0]
        team = words.STORE if channel == "store" and rnd() < 0.6 else rng.choices(team_choices, weights=team_weights)[0]
        team_id, members, member_cum = self.teams[team]
        assignee = rng.choices(members, cum_weights=member_cum)[0]
        creator = assignee if rnd() < 0.6 else rng.choice(self.staff_ids)
        policy = self.policies.get((priority, category.pk)) or self.policies.get((priority, None))
        targets = (policy.first_response_minutes, policy.resolution_minutes) if policy else (540, 5 * 540)
        # Late more often in the months before a closure for a service reason (churn after service).
        odds = 3.0 if flags[index] and card_end and card_end - opened < 120 * DAY else 1.0
        s = story.tell(rng, self.clock, self.now, opened, card_end, targets, odds)
        # Steps: what the story needs, then work and notes, as many as keep the average where asked.
        required = len(s.steps)
        self.required_mean += (required - self.required_mean) / 1000
        room = max(0.0, (self.step_target - self.step_count) / left - self.required_mean)
        extra = sum(rnd() < room / 4 for _i in range(4)) if room < 4 else 4
        story.more_steps(rng, s, min(extra, story.MAX_STEPS - required), rng.choice(words.NEEDS), self.now)
        from_team, handed_to = team_id, None
        if s.handed is not None:
            team_id, others, other_cum = self.teams[rng.choice(words.HANDOFF_TO[team])]
            handed_to = rng.choices(others, cum_weights=other_cum)[0]
        if s.status == "new":
            assignee = None
        by, last = assignee or creator, opened
        initial = "new" if s.status == "new" else "assigned"
        for at, kind, content, old, new, extra_columns in story.walk(s.steps, initial):
            row = {
                "id": str(self.step_count + 1),
                "ticket_id": str(pk),
                "kind": kind,
                "content": esc(content),
                "happened_at": ts(at),
                "created_at": ts(at),
                "by_id": str(creator if kind == "status" and not old else by),
                "old_status": old,
                "new_status": new,
                "to_customer": "t" if kind == "reply" else "f",
            }
            if kind == "handoff":
                row.update(from_team_id=str(from_team), to_team_id=str(team_id), by_id=str(by))
                by = assignee = handed_to
            row.update(extra_columns)
            step_lines.append(steps.line(row))
            self.step_count += 1
            last = max(last, at)
        year = time.gmtime(opened + self.clock.offset).tm_year
        self.seq[year] = self.seq.get(year, 0) + 1
        self.shares["open"] += s.status in story.OPEN_NOW
        self.shares["breached"] += s.breached_response or s.breached_resolution
        self.shares["reopened"] += s.reopened
        self.shares["waiting"] += s.status == "waiting"
        row = {
            "id": str(pk),
            "number": f"S{year}-{self.seq[year]:06d}",
            "customer_id": str(cid),
            "channel": channel,
            "category_id": str(category.pk),
            "priority": priority,
            "subject": esc(rng.choice(words.SUBJECTS.get(category.key, words.SUBJECTS["other"]))),
            "need": esc(rng.choice(words.NEEDS)),
            "team_id": str(team_id),
            "assignee_id": str(assignee) if assignee else r"\N",
            "status": s.status,
            "created_by_id": str(creator),
            "created_at": ts(opened),
            "updated_at": ts(last),
            "first_response_at": ts(s.responded) if s.responded else r"\N",
            "resolved_at": ts(s.resolved) if s.resolved else r"\N",
            "closed_at": ts(s.closed) if s.closed else r"\N",
            "reopen_count": "1" if s.reopened else "0",
            "sla_policy_id": str(policy.pk) if policy else r"\N",
            "first_response_minutes": str(targets[0]),
            "resolution_minutes": str(targets[1]),
            "first_response_due": ts(s.first_due),
            "resolution_due": ts(s.resolution_due),
            "paused_since": ts(s.paused_since) if s.paused_since else r"\N",
            "paused_minutes": str(s.paused),
            "first_response_breached": "t" if s.breached_response else "f",
            "resolution_breached": "t" if s.breached_resolution else "f",
            "version": str(len(s.steps) + 1),
        }
        ticket_lines.append(tickets.line(row))
