"""The service dashboard's summary rows, kept by the ticket operations (like the closure tallies).

    before = tally.snapshot(ticket)   # on the locked ticket, before the operation changes it
    ...                               # the operation changes and saves the ticket
    tally.changed(before, ticket)     # the summary moves from the old contribution to the new

``snapshot`` of a ticket that did not exist yet is None.

The model: every ticket *contributes* a few counts to the summary, worked out from its current
state alone (``contribution``). An operation takes the ticket's contribution before it changes the
ticket, and afterwards adds the difference; so the summary always equals the sum of every ticket's
contribution, which is exactly what ``rebuild`` (``manage.py rebuild_service_summary``) recounts,
and what the tests compare after a varied sequence of operations.

Two tables (service/models.py), keyed by (local day, category, channel, team, priority):

- ``ServiceTally``: counts, each on its own day:
    on the day the ticket opened: ``opened``, ``backlog`` +1, ``was_resolved`` (resolved at least
    once: resolved now, or reopened), ``reopened`` (reopened at least once);
    on the day it was done (resolved: ``resolved_at``; cancelled: ``closed_at``): ``backlog`` −1,
    ``resolved`` or ``cancelled``, and for a resolved ticket with targets ``res_met``/``res_missed``
    and ``sla_met``/``sla_missed`` (both targets met, or either missed);
    on the day of its first response (with a target): ``fr_met``/``fr_missed``.
  So the backlog on a day is the running sum of ``backlog`` up to it: the tickets opened before it
  that were not done before it. A reopened ticket is back in the backlog from the day it opened
  until its last resolution: its earlier resolution is no longer counted anywhere (the ticket
  keeps only its last ``resolved_at``), which is what a recount of the tickets can say too.
- ``ServiceTimeTally``: first-response times (on the first response's day) and resolution times
  (on the resolution's day) in *working* minutes (service/calendar.py; the resolution time less
  the pauses while waiting for the customer and while resolved before a reopening), as counts per
  log-spaced bucket. Bucket 0 holds 0–5 minutes; bucket k ≥ 1 holds [5·1.25^(k−1), 5·1.25^k).
  Medians and 90th percentiles are read from the buckets (``percentile``): the rank's bucket is
  exact, and the value is interpolated inside it, so it is within 25 % of the exact value
  (a 10-hour median reads between 8 and 12.5 hours, in practice much closer).

Why buckets rather than exact percentiles from the ticket table: an exact percentile needs every
time of the period sorted, and times in working minutes are not columns (they depend on the
calendar); the buckets answer any period and filter from a few thousand summary rows.

Days are *local* dates (settings.TIME_ZONE) like the closure tallies; durations use the desk's
working calendar. After changing TIME_ZONE or the working calendar (hours, holidays), run
``manage.py rebuild_service_summary``: durations measured before the change are otherwise kept as
they were measured, and an operation on an old ticket would move it between buckets by the
difference.

Both tables have monthly twins, ``ServiceMonthTally`` and ``ServiceMonthTimeTally``, keyed by the
local month's first day instead of the day: each month row is the sum of its day rows, written in
the same ``write`` as them (operations, ``added``, ``rebuild``), so the dashboard reads the months
lying wholly inside a period from about 500 rows a month instead of 30 times as many. A month's
times are one row per key and measure with a column per bucket (``b0`` .. ``b59``): summing the
columns of 1,000 rows a month is much cheaper than grouping 20 times as many (key, bucket) rows.

Tickets written without the operations (an import's bulk insert) are counted with ``added``.

A data scope (crm/scopes.py: the cards of some owners) reads the same four tables keyed by the
ticket's card's owner *now* as well (``ServiceOwnerTally`` and its three twins, ``owner_key``: a
user id, 0 for none). Every write above writes them too, under the owner the card has when the
ticket changes; when a card changes hands (customers/owners.py) or a ticket moves to another card
(service/moves.py), ``moved`` takes the ticket's whole contribution from the old owner's rows to
the new owner's.

Deltas are summed per key first and written in key order (``INSERT ... ON CONFLICT DO UPDATE``,
PostgreSQL and SQLite alike), table after table in a fixed order (day counts, day times, month
counts, month times), so two transactions writing the same rows lock them in the same order and
cannot deadlock.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime

from django.db import connections, router, transaction
from django.utils import timezone

from crm import tallies
from customers.models import Customer

from .calendar import Calendar, current
from .models import (
    TIME_BUCKETS,
    ServiceMonthTally,
    ServiceMonthTimeTally,
    ServiceOwnerMonthTally,
    ServiceOwnerMonthTimeTally,
    ServiceOwnerTally,
    ServiceOwnerTimeTally,
    ServiceTally,
    ServiceTimeTally,
    Status,
    Ticket,
)

KEY = ("day", "category_id", "channel", "team", "priority")
COLUMNS = (
    "opened",
    "backlog",
    "resolved",
    "cancelled",
    "was_resolved",
    "reopened",
    "fr_met",
    "fr_missed",
    "res_met",
    "res_missed",
    "sla_met",
    "sla_missed",
)
TIME_KEY = (*KEY, "measure", "bucket")
MONTH_KEY = ("month", *KEY[1:])
MONTH_TIME_KEY = (*MONTH_KEY, "measure")  # and a column per bucket, BUCKET_COLUMNS
FIRST_RESPONSE, RESOLUTION = "fr", "res"
# The owner tables: the same keys with the card's owner first.
OWNER_KEY, OWNER_TIME_KEY = ("owner_key", *KEY), ("owner_key", *TIME_KEY)
OWNER_MONTH_KEY, OWNER_MONTH_TIME_KEY = ("owner_key", *MONTH_KEY), ("owner_key", *MONTH_TIME_KEY)

# The buckets: 0 is [0, 5) minutes; k >= 1 is [5 * 1.25^(k-1), 5 * 1.25^k). 60 buckets reach
# beyond four years of working minutes; anything longer is counted in the last.
BASE, RATIO, BUCKETS = 5.0, 1.25, TIME_BUCKETS
BUCKET_COLUMNS = tuple(f"b{k}" for k in range(BUCKETS))

# The ticket fields a contribution reads (the rebuild reads only these).
FIELDS = (
    "created_at",
    "category_id",
    "channel",
    "team_id",
    "priority",
    "status",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "first_response_minutes",
    "resolution_minutes",
    "first_response_breached",
    "resolution_breached",
    "paused_minutes",
)


def bucket_of(minutes: float) -> int:
    if minutes < BASE:
        return 0
    k = int(math.floor(math.log(minutes / BASE) / math.log(RATIO))) + 1
    # Guard against rounding at an edge: the bucket must hold the value.
    while k > 1 and minutes < bucket_bounds(k)[0]:
        k -= 1
    while k < BUCKETS - 1 and minutes >= bucket_bounds(k)[1]:
        k += 1
    return min(k, BUCKETS - 1)


def bucket_bounds(k: int) -> tuple[float, float]:
    """The working minutes bucket ``k`` holds: [low, high)."""
    if k == 0:
        return 0.0, BASE
    return BASE * RATIO ** (k - 1), BASE * RATIO**k


def percentile(counts: dict[int, int], q: float) -> float | None:
    """The ``q`` quantile (0.5: the median) in working minutes, from counts per bucket: the bucket
    of the rank is exact, the value is interpolated (geometrically) inside it. None without counts."""
    total = sum(counts.values())
    if not total:
        return None
    rank = q * total  # the value below which a share q of the times lie
    seen = 0
    for k in sorted(counts):
        n = counts[k]
        if n <= 0:
            continue
        if seen + n >= rank:
            low, high = bucket_bounds(k)
            fraction = (rank - seen) / n
            if k == 0:
                return low + (high - low) * fraction
            return low * (high / low) ** fraction
        seen += n
    return bucket_bounds(max(counts))[1]


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def first_response_minutes(row: dict, calendar: Calendar) -> int:
    return calendar.between(row["created_at"], row["first_response_at"])


def resolution_minutes(row: dict, calendar: Calendar) -> int:
    return max(0, calendar.between(row["created_at"], row["resolved_at"]) - (row["paused_minutes"] or 0))


def contribution(row: dict, calendar: Calendar | None = None) -> tuple[Counter, Counter]:
    """What one ticket (a dict of ``FIELDS``) adds to the two tables: ({(*KEY, column): n},
    {TIME_KEY: n}). ``calendar`` is read when a duration is needed and none is given."""
    dims = (row["category_id"], row["channel"], row["team_id"] or 0, row["priority"])
    counts, times = Counter(), Counter()
    opened = (local_day(row["created_at"]), *dims)
    counts[(*opened, "opened")] += 1
    counts[(*opened, "backlog")] += 1
    reopened = (row["reopen_count"] or 0) > 0
    is_resolved = row["status"] in (Status.RESOLVED, Status.CLOSED) and row["resolved_at"] is not None
    if is_resolved or reopened:
        counts[(*opened, "was_resolved")] += 1
    if reopened:
        counts[(*opened, "reopened")] += 1
    done_at = row["resolved_at"] if is_resolved else row["closed_at"] if row["status"] == Status.CANCELLED else None
    if done_at is not None:
        done = (local_day(done_at), *dims)
        counts[(*done, "backlog")] -= 1
        counts[(*done, "resolved" if is_resolved else "cancelled")] += 1
    if row["first_response_at"] is not None:
        calendar = calendar or current()
        day = (local_day(row["first_response_at"]), *dims)
        if row["first_response_minutes"]:
            counts[(*day, "fr_missed" if row["first_response_breached"] else "fr_met")] += 1
        times[(*day, FIRST_RESPONSE, bucket_of(first_response_minutes(row, calendar)))] += 1
    if is_resolved:
        calendar = calendar or current()
        day = (local_day(row["resolved_at"]), *dims)
        if row["resolution_minutes"]:
            counts[(*day, "res_missed" if row["resolution_breached"] else "res_met")] += 1
        if row["first_response_minutes"] or row["resolution_minutes"]:
            missed = row["first_response_breached"] or row["resolution_breached"]
            counts[(*day, "sla_missed" if missed else "sla_met")] += 1
        times[(*day, RESOLUTION, bucket_of(resolution_minutes(row, calendar)))] += 1
    return counts, times


def _row(ticket: Ticket) -> dict:
    return {name: getattr(ticket, name) for name in FIELDS}


def owner_of(ticket) -> int:
    """The owner of the ticket's card now (0 for none), as the owner tables key it."""
    if "customer" in ticket._state.fields_cache:
        return ticket.customer.owner_id or 0
    return Customer.objects.filter(pk=ticket.customer_id).values_list("owner_id", flat=True).first() or 0


def owned(deltas: Counter, owner: int | None, sign: int = 1) -> Counter:
    """Deltas keyed for the owner tables: the owner (0 for none) before each key."""
    return Counter({(owner or 0, *key): sign * n for key, n in deltas.items() if n})


def snapshot(ticket) -> dict | None:
    """The ticket's contribution now, and its card's owner (None for a ticket not saved yet)."""
    if ticket is None or ticket.pk is None:
        return None
    counts, times = contribution(_row(ticket))
    return {"counts": counts, "times": times, "owner": owner_of(ticket)}


def changed(before: dict | None, ticket, *, using: str | None = None) -> None:
    """Move the summary from ``before`` (a snapshot, or None for a new ticket) to the ticket's
    contribution now, in the caller's transaction (the card's owner read with the snapshot: the
    operation holds the ticket's lock, which a change of owner waits for, ``moved``)."""
    counts, times = contribution(_row(ticket))
    if before is not None:
        counts.subtract(before["counts"])
        times.subtract(before["times"])
    owner = before["owner"] if before is not None else owner_of(ticket)
    using = using or router.db_for_write(ServiceTally)
    write(counts, times, owned(counts, owner), owned(times, owner), using=using)


def added(tickets, *, using: str | None = None) -> None:
    """Count tickets written without the operations (an import's bulk insert of historical tickets,
    already in their final state), in the caller's transaction: the same as ``changed(None, t)`` for
    each, in one write."""
    tickets = list(tickets)
    using = using or router.db_for_write(ServiceTally)
    cards = Customer.objects.using(using).filter(pk__in={t.customer_id for t in tickets})
    owners = dict(cards.values_list("pk", "owner_id"))
    calendar = current()
    counts, times, owner_counts, owner_times = Counter(), Counter(), Counter(), Counter()
    for ticket in tickets:
        c, t = contribution(_row(ticket), calendar)
        counts.update(c)
        times.update(t)
        owner_counts.update(owned(c, owners.get(ticket.customer_id)))
        owner_times.update(owned(t, owners.get(ticket.customer_id)))
    write(counts, times, owner_counts, owner_times, using=using)


def moved(rows, old: dict[int, int | None], new: dict[int, int | None], *, using: str = "default") -> None:
    """Tickets (dicts of ``FIELDS`` and ``customer_id``) whose card changed hands, or which moved to
    another card: their whole contribution goes from the owner rows of ``old[card]`` to those of
    ``new[card]`` (``card``: the ticket's ``customer_id`` before the change), in the caller's
    transaction. The tables without owner do not change."""
    calendar = current()
    owner_counts, owner_times = Counter(), Counter()
    for row in rows:
        c, t = contribution(row, calendar)
        card = row["customer_id"]
        for found, deltas in ((owner_counts, c), (owner_times, t)):
            found.update(owned(deltas, old.get(card), -1))  # (Counter's "+" would drop the negatives)
            found.update(owned(deltas, new.get(card)))
    write(Counter(), Counter(), owner_counts, owner_times, using=using)


def follow_owners(moves: dict[int, tuple[int | None, int | None]]) -> None:
    """Cards changed hands (customers/owners.py: ``{card id: (old owner, new owner)}``): their
    tickets' counts move to the new owner's rows, the tickets locked first (an operation on one of
    them reads the card's owner under the same lock), in the change's transaction."""
    cards = sorted(moves)
    for start in range(0, len(cards), 2000):
        chunk = cards[start : start + 2000]
        tickets = Ticket.objects.select_for_update().filter(customer_id__in=chunk).order_by("pk")
        rows = list(tickets.values(*FIELDS, "customer_id"))
        if rows:
            old = {card: moves[card][0] for card in chunk}
            moved(rows, old, {card: moves[card][1] for card in chunk}, using=router.db_for_write(ServiceTally))


def write(
    counts: Counter, times: Counter, owner_counts: Counter, owner_times: Counter, *, using: str = "default"
) -> None:
    """Add the deltas to the day tables and the month tables, without and with the owner (rows
    summed per key, in key order)."""
    for models, (day_counts, day_times), day_at in (
        ((ServiceTally, ServiceTimeTally, ServiceMonthTally, ServiceMonthTimeTally), (counts, times), 0),
        (
            (ServiceOwnerTally, ServiceOwnerTimeTally, ServiceOwnerMonthTally, ServiceOwnerMonthTimeTally),
            (owner_counts, owner_times),
            1,
        ),
    ):
        keys = (KEY, TIME_KEY, MONTH_KEY, MONTH_TIME_KEY) if day_at == 0 else OWNER_KEYS
        month_counts, month_times = monthly(day_counts, day_times, day_at=day_at)
        _upsert(models[0], keys[0], COLUMNS, _count_rows(day_counts), using)
        _upsert(models[1], keys[1], ("n",), _time_rows(day_times), using)
        _upsert(models[2], keys[2], COLUMNS, _count_rows(month_counts), using)
        _upsert(models[3], keys[3], BUCKET_COLUMNS, _bucket_rows(month_times), using)


OWNER_KEYS = (OWNER_KEY, OWNER_TIME_KEY, OWNER_MONTH_KEY, OWNER_MONTH_TIME_KEY)


def monthly(counts: Counter, times: Counter, *, day_at: int = 0) -> tuple[Counter, Counter]:
    """Day-keyed deltas (or a recount) summed by month: the key's day (at ``day_at``: 1 in the
    owner tables' keys) becomes its month's first day."""
    month_counts, month_times = Counter(), Counter()
    for source, target in ((counts, month_counts), (times, month_times)):
        for key, n in source.items():
            day = key[day_at]
            target[(*key[:day_at], day.replace(day=1), *key[day_at + 1 :])] += n
    return Counter({k: n for k, n in month_counts.items() if n}), Counter({k: n for k, n in month_times.items() if n})


def _count_rows(counts: Counter) -> list:
    rows: dict[tuple, dict[str, int]] = {}
    for (*key, column), n in counts.items():
        if n:
            rows.setdefault(tuple(key), dict.fromkeys(COLUMNS, 0))[column] += n
    return sorted((k, [v[c] for c in COLUMNS]) for k, v in rows.items())


def _time_rows(times: Counter) -> list:
    return sorted((key, [n]) for key, n in times.items() if n)


def _bucket_rows(times: Counter) -> list:
    """{(*MONTH_TIME_KEY, bucket): n} as rows of MONTH_TIME_KEY with a number per bucket."""
    rows: dict[tuple, list[int]] = {}
    for (*key, bucket), n in times.items():
        if n:
            rows.setdefault(tuple(key), [0] * BUCKETS)[bucket] += n
    return sorted(rows.items())


def _upsert(model, key_columns, value_columns, rows, using: str) -> None:
    tallies.add_to(model, key_columns, value_columns, rows, using=using)


# --- recounting ------------------------------------------------------------------------------------
def recount(tickets=None, *, calendar: Calendar | None = None, owners: bool = False) -> tuple[Counter, ...]:
    """Every ticket's contribution summed: ({(*KEY, column): n}, {TIME_KEY: n}), zeros left out;
    with ``owners``, also the owner tables' ({(*OWNER_KEY, column): n}, {OWNER_TIME_KEY: n})."""
    tickets = Ticket.objects.all() if tickets is None else tickets
    calendar = calendar or current()
    found = [Counter() for _ in range(4 if owners else 2)]
    fields = (*FIELDS, "customer__owner_id") if owners else FIELDS
    for row in tickets.order_by().values(*fields).iterator(chunk_size=5000):
        c, t = contribution(row, calendar)
        found[0].update(c)
        found[1].update(t)
        if owners:
            found[2].update(owned(c, row["customer__owner_id"]))
            found[3].update(owned(t, row["customer__owner_id"]))
    return tuple(Counter({k: n for k, n in counter.items() if n}) for counter in found)


def stored(*, months: bool = False, owners: bool = False) -> tuple[Counter, Counter]:
    """The summary as stored, in ``recount``'s shape (for the tests and a check after a rebuild);
    with ``months``, the month rows in ``monthly``'s shape (compare with ``monthly(*recount())``);
    with ``owners``, the owner tables."""
    if owners:
        models = (ServiceOwnerTally, ServiceOwnerTimeTally, ServiceOwnerMonthTally, ServiceOwnerMonthTimeTally)
        keys = OWNER_KEYS
    else:
        models = (ServiceTally, ServiceTimeTally, ServiceMonthTally, ServiceMonthTimeTally)
        keys = (KEY, TIME_KEY, MONTH_KEY, MONTH_TIME_KEY)
    (count_model, key) = (models[2], keys[2]) if months else (models[0], keys[0])
    counts, times = Counter(), Counter()
    for row in count_model.objects.values(*key, *COLUMNS):
        for column in COLUMNS:
            if row[column]:
                counts[(*(row[k] for k in key), column)] = row[column]
    if months:
        for row in models[3].objects.values(*keys[3], *BUCKET_COLUMNS):
            for k, column in enumerate(BUCKET_COLUMNS):
                if row[column]:
                    times[(*(row[c] for c in keys[3]), k)] = row[column]
        return counts, times
    for row in models[1].objects.exclude(n=0).values(*keys[1], "n"):
        times[tuple(row[k] for k in keys[1])] = row["n"]
    return counts, times


TABLES = (
    ServiceTally,
    ServiceTimeTally,
    ServiceMonthTally,
    ServiceMonthTimeTally,
    ServiceOwnerTally,
    ServiceOwnerTimeTally,
    ServiceOwnerMonthTally,
    ServiceOwnerMonthTimeTally,
)


def rebuild(*, using: str | None = None) -> dict[str, int]:
    """Recount the eight tables (days and months, without and with the owner) from the tickets
    (recovery, a change of calendar or time zone, after a bulk load). On PostgreSQL the ticket table
    is locked in SHARE mode first, so operations meanwhile wait for the rebuild instead of being lost
    between the DELETE and the INSERTs."""
    using = using or router.db_for_write(ServiceTally)
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            if connections[using].vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {Ticket._meta.db_table} IN SHARE MODE")
            for model in TABLES:
                cursor.execute(f"DELETE FROM {model._meta.db_table}")
        write(*recount(Ticket.objects.using(using), owners=True), using=using)
    return {
        "rows": ServiceTally.objects.using(using).count(),
        "time_rows": ServiceTimeTally.objects.using(using).count(),
        "month_rows": ServiceMonthTally.objects.using(using).count(),
        "month_time_rows": ServiceMonthTimeTally.objects.using(using).count(),
        "owner_rows": ServiceOwnerTally.objects.using(using).count(),
        "owner_month_rows": ServiceOwnerMonthTally.objects.using(using).count(),
    }
