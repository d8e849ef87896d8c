"""The surveys and callbacks of the dashboard's closures (analytics/followups.py, figure 1), summed by
local month, by owner and by stated reason in one query that returns a row per group.

What it sums, in one ``UNION ALL`` grouped by (month, owner, reason) and then by each of the three:

- the whole local months of the period from the activity tally (followups.models.ActivityTally:
  the summary's surveys and callbacks summed by month and the dashboard's filters), a fifth as
  many rows as the summary's;
- the days before the first whole month and after the last from the summary rows themselves;
- the pending callbacks of the whole months from the summary rows (whether one is past due
  depends on the time of reading, so the tally leaves them out): a few thousand at most;
- for the few closures whose pending callbacks straddle now, a correction from their follow-ups.

When a filter is not in the tally (the closer, a card filter such as a tag) every part is read
from the summary rows, which those filters narrow to a fraction. Either way the figures are the
same (tests/analytics/test_followup_figures.py recounts them from the raw rows).
"""

from __future__ import annotations

from django.db import connections
from django.db.models import BigIntegerField, Case, Count, F, Q, Sum, Value, When
from django.utils import timezone

from closures.tally import month_key, month_start
from followups.models import Followup, Kind

from .filters import ClosureFilter
from .followup_summary import summaries, tallies

DIMENSIONS = ("month", "owner_id", "reason_id")  # what activity_rows sums by, in this order
COUNTS = ("sent", "answered", "on_time", "late", "not_done", "upcoming")  # an Activity's
# The columns of the parts' union (named by its first part), which activity_rows sums again.
GROUPED = (*DIMENSIONS, "sent_n", "answered_n", "on_time_n", "late_n", "not_done", "upcoming")


def whole_months(fs: ClosureFilter) -> tuple[int | None, int] | None:
    """The local months the period covers whole, as keys [first, stop) (first None: every month
    before ``stop``), or None when it covers none."""
    dates = fs.dates
    stop = month_key(dates.end)
    if dates.start is None:
        return None, stop
    first = month_key(dates.start)
    if month_start(first) < dates.start:
        first += 1
    return (first, stop) if first < stop else None


def _summed(rows, *, sent=True, pending=True):
    """Summary rows summed by (month, owner, reason) in GROUPED's columns: their surveys and
    callbacks (``sent=False``: none), their pending callbacks classed against now (``pending=False``:
    none; not done is then their cancelled callbacks alone)."""
    now = timezone.now()
    overdue = Case(When(pending__gt=0, pending_last_due__lt=now, then=F("pending")), default=Value(0))
    zero = Value(0)
    counts = {
        "sent_n": Sum("sent") if sent else zero,
        "answered_n": Sum("answered") if sent else zero,
        "on_time_n": Sum("on_time") if sent else zero,
        "late_n": Sum("late") if sent else zero,
        "not_done": Sum((F("cancelled") if sent else zero) + overdue) if pending else Sum("cancelled"),
        "upcoming": Sum(F("pending") - overdue) if pending else zero,
    }
    return rows.order_by().values(*DIMENSIONS).annotate(**counts).values_list(*GROUPED)


def _tallied(tally):
    """Activity tally rows summed by (month, owner, reason) in GROUPED's columns (pending aside)."""
    owner = Case(When(owner_id=0, then=Value(None)), default=F("owner_id"), output_field=BigIntegerField())
    return (
        tally.order_by()
        .annotate(owner=owner)
        .values("month", "owner", "reason_id")
        .annotate(
            sent_n=Sum("sent"),
            answered_n=Sum("answered"),
            on_time_n=Sum("on_time"),
            late_n=Sum("late"),
            not_done=Sum("cancelled"),
            upcoming=Value(0),
        )
        .values_list("month", "owner", "reason_id", *GROUPED[3:])
    )


def _straddling(rows):
    """For the closures of ``rows`` whose pending callbacks straddle now (past due and not yet due
    are otherwise all or none of them): k more not done, k fewer upcoming."""
    now = timezone.now()
    straddling = rows.filter(pending__gt=1, pending_first_due__lt=now, pending_last_due__gte=now)
    s = "closure__followup_summary__"
    return (
        Followup.objects.filter(
            closure_id__in=straddling.values("closure_id"),
            kind=Kind.CALLBACK,
            state=Followup.State.PENDING,
            done_at__isnull=True,
            due_at__lt=now,
        )
        .order_by()
        .values(s + "month", s + "owner_id", s + "reason_id")
        .annotate(zero=Value(0), k=Count("pk"), minus_k=-Count("pk"))
        .values_list(s + "month", s + "owner_id", s + "reason_id", "zero", "zero", "zero", "zero", "k", "minus_k")
    )


def parts(fs: ClosureFilter) -> list:
    """The querysets whose rows activity_rows sums (the summary's edge days first: it names the columns)."""
    rows = summaries(fs).filter(activity__gt=0)
    tally = tallies(fs)
    months = whole_months(fs) if tally is not None else None
    if months is None:
        return [_summed(rows), _straddling(rows)]
    first, stop = months
    tally = tally.filter(month__lt=stop)
    inside = Q(performed_at__lt=month_start(stop))
    edges = Q(performed_at__gte=month_start(stop))
    if first is not None:
        tally = tally.filter(month__gte=first)
        inside &= Q(performed_at__gte=month_start(first))
        edges |= Q(performed_at__lt=month_start(first))
    pending = rows.filter(inside, pending__gt=0)
    return [_summed(rows.filter(edges)), _tallied(tally), _summed(pending, sent=False), _straddling(rows)]


def activity_rows(fs: ClosureFilter) -> list[dict]:
    """Surveys and callbacks of ``fs``'s closures summed by local month, by owner and by stated
    reason: {"dimension": "month" | "owner_id" | "reason_id", "key", *COUNTS} a row, one query.

    The parts are summed by (month, owner, reason) and those groups again by each dimension around
    them (a cross join with the three dimensions): a hundred rows come back, not the thousands of
    (month, owner, reason) groups."""
    first, *others = parts(fs)
    union = first.union(*others, all=True)
    db = first.db
    sql, params = union.query.get_compiler(db).as_sql()
    dims = " UNION ALL ".join(f"SELECT {n} AS dim" for n in range(len(DIMENSIONS)))
    key = "CASE d.dim " + " ".join(f"WHEN {n} THEN g.{name}" for n, name in enumerate(DIMENSIONS[:-1]))
    key += f" ELSE g.{DIMENSIONS[-1]} END"
    sums = ", ".join(f"CAST(SUM(g.{name}) AS bigint)" for name in GROUPED[3:])
    query = f"SELECT d.dim, {key} AS k, {sums} FROM ({sql}) AS g CROSS JOIN ({dims}) AS d GROUP BY d.dim, {key}"
    with connections[db].cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return [
        {"dimension": DIMENSIONS[dim], "key": key, **dict(zip(COUNTS, counts, strict=True))}
        for dim, key, *counts in rows
    ]
