"""The service dashboard's figures, from the summary the ticket operations keep (service/tally.py).

The period is split (``Split``) into the local months lying wholly inside it, read from the month
rows (``ServiceMonthTally``, ``ServiceMonthTimeTally``: about 500 keys a month), and the partial
months at its ends, read from the day rows; a partial month mostly inside the period is read as
its month row less the day rows of the days outside it. ``compute(sf)`` runs, whatever the number
of tickets:

1. the period's counts grouped by (category, channel, team, priority), month and day parts summed
   in one query: every total, every breakdown and every rate is summed from these few hundred rows
   in Python;
2. opened, resolved and the backlog's change per month (month rows and day rows), or per week
   (day rows of the whole period: weeks do not fall on months);
3. the backlog before the period: the backlog column summed over the month rows of the months
   before the period's first month, and the day rows of that month before the period;
4. first-response and resolution times, as counts per bucket (median and 90th percentile, within
   the buckets' precision: service/tally.py): a month row holds a column per bucket.

What each count means, and on which day it is counted: service/tally.py. In short: tickets
*opened* in the period (by category, channel, team, priority and over time, and the reopen rate
of those tickets), tickets *resolved* in the period (SLA compliance and resolution times), first
responses *given* in the period (first-response compliance and times).

A data scope (crm/scopes.py) reads the owner tables instead, the same rows with the card's owner
(``ServiceOwnerTally`` and its twins, filtered by the scope's owners): a Manager scoped to their
team sees the figures of their team's cards' tickets only.

Speed, measured on the benchmark database (PostgreSQL, 2,000,000 tickets over three years: 304,635
count rows and 1,778,222 time rows by day, 17,338 and 34,099 by month; 2 shared cores at load 2):
``manage.py bench`` "last 12 months" (the default) p95 115-131 ms (p50 85-102) over three runs, a
custom year cutting a month at each end p95 147 ms (p50 122; its compute alone 88 ms, as the
default's); before the month rows, p95 645 and 643 ms (p50 471 and 459).
Page times measured alone: "last 90 days" 74 ms, all time 128 ms, "last 12 months" by week 152 ms
(the weekly chart reads a year of day rows, 50 ms: over the 150 ms target on a loaded machine,
but correct).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connections
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils.formats import date_format
from django.utils.translation import gettext

from crm.models import Team
from service import tally
from service.models import (
    Category,
    Channel,
    Priority,
    ServiceMonthTally,
    ServiceMonthTimeTally,
    ServiceOwnerMonthTally,
    ServiceOwnerMonthTimeTally,
    ServiceOwnerTally,
    ServiceOwnerTimeTally,
    ServiceTally,
    ServiceTimeTally,
)

from .service_filters import ServiceFilter

MAX_STEPS = 160  # at most this many months or weeks in the charts over time


@dataclass(frozen=True)
class Tables:
    days: type
    months: type
    day_times: type
    month_times: type


EVERY_CARD = Tables(ServiceTally, ServiceMonthTally, ServiceTimeTally, ServiceMonthTimeTally)
# A data scope's: the same tables by the card's owner now as well (service/tally.py).
BY_OWNER = Tables(ServiceOwnerTally, ServiceOwnerMonthTally, ServiceOwnerTimeTally, ServiceOwnerMonthTimeTally)


def tables(sf: ServiceFilter) -> Tables:
    return EVERY_CARD if sf.scope is None else BY_OWNER


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Counts:
    """Summed summary columns (service/tally.py COLUMNS)."""

    values: dict = field(default_factory=lambda: dict.fromkeys(tally.COLUMNS, 0))

    def add(self, row: dict) -> None:
        values = self.values
        for column in tally.COLUMNS:
            values[column] += row[column] or 0

    def __getattr__(self, name):
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    @property
    def fr_rate(self):
        return rate(self.fr_met, self.fr_met + self.fr_missed)

    @property
    def res_rate(self):
        return rate(self.res_met, self.res_met + self.res_missed)

    @property
    def sla_rate(self):
        return rate(self.sla_met, self.sla_met + self.sla_missed)

    @property
    def reopen_rate(self):
        return rate(self.reopened, self.was_resolved)


@dataclass
class Group:
    """One row of a breakdown (a category, channel, team or priority) and its queue filter."""

    key: str
    label: str
    counts: Counts
    share: float
    param: dict
    url: str = ""  # the queue's drill-down, set with the chart


@dataclass
class Step:
    """One month or week of the period: tickets opened and resolved, and the backlog at its end."""

    first: date
    last: date
    label: str
    opened: int = 0
    resolved: int = 0
    backlog: int = 0


@dataclass
class Times:
    fr_median: float | None
    fr_p90: float | None
    fr_count: int
    res_median: float | None
    res_p90: float | None
    res_count: int


@dataclass
class ServiceFigures:
    period: object
    total: Counts
    backlog_at_start: int
    backlog_at_end: int
    by_category: list[Group]
    by_channel: list[Group]
    by_team: list[Group]
    by_priority: list[Group]
    steps: list[Step]
    times: Times


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Split:
    """A period of local days as the months lying wholly inside it, ``first`` (None: from the
    beginning) up to ``stop`` excluded (None: no whole month), read from the month rows, and the
    days of the partial months at its ends, read from the day rows: ``edges`` (inclusive ranges).
    A partial month mostly inside the period is read as its month row (``also``) less the days
    outside (``minus``): 6 days read rather than 25.

    The month a period ends in counts as whole when the period reaches today: the operations count
    a ticket on the days things happened to it, none after today (like analytics/tallied.py)."""

    first: date | None
    stop: date | None
    edges: tuple[tuple[date | None, date], ...]
    also: tuple[date, ...] = ()
    minus: tuple[tuple[date, date], ...] = ()

    @classmethod
    def of(cls, first: date | None, last: date, today: date) -> Split:
        day = timedelta(days=1)
        stop = last.replace(day=1)
        if last >= today or _next_month(last) == last + day:
            stop = _next_month(stop)
        start = None if first is None else first if first.day == 1 else _next_month(first)
        if start is not None and start >= stop:
            return cls(first=None, stop=None, edges=((first, last),))
        edges, also, minus = [], [], []
        if first is not None and first < start:
            head = first.replace(day=1)
            if (first - head).days < (start - first).days:
                also.append(head)
                minus.append((head, first - day))
            else:
                edges.append((first, start - day))
        if stop <= last:
            end = _next_month(stop) - day
            if (end - last).days < (last - stop).days + 1:
                also.append(stop)
                minus.append((last + day, end))
            else:
                edges.append((stop, last))
        return cls(first=start, stop=stop, edges=tuple(edges), also=tuple(also), minus=tuple(minus))


def _summary(sf: ServiceFilter, model):
    """Day rows of the whole period (the weekly chart)."""
    rows = model.objects.using(sf.db).order_by().filter(**sf.summary_filters())
    period = sf.dates
    if period.first is not None:
        rows = rows.filter(day__gte=period.first)
    return rows.filter(day__lte=period.last)


def _days(sf: ServiceFilter, model, ranges):
    if not ranges:
        return None
    within = Q(pk__in=[])
    for first, last in ranges:
        within |= Q(day__lte=last) & (Q(day__gte=first) if first is not None else Q())
    return model.objects.using(sf.db).order_by().filter(within, **sf.summary_filters())


def _parts(sf: ServiceFilter, day_model, month_model):
    """The period's rows as (month rows of its whole months, day rows of its partial months, day
    rows to subtract: ``Split``); each is None when the period has none."""
    period = sf.dates
    split = Split.of(period.first, period.last, sf.today)
    months = None
    if split.stop is not None:
        # The months read whole ("also") are the one before ``first`` or the one at ``stop``: one range.
        first = min((split.first, *split.also)) if split.first is not None else None
        stop = max((split.stop, *(_next_month(month) for month in split.also)))
        months = month_model.objects.using(sf.db).order_by().filter(month__lt=stop, **sf.summary_filters())
        if first is not None:
            months = months.filter(month__gte=first)
    return months, _days(sf, day_model, split.edges), _days(sf, day_model, split.minus)


def _summed(sf: ServiceFilter, parts, group: tuple, columns: tuple) -> list[dict]:
    """The parts' ``columns`` summed by ``group`` (the third part subtracted) in one query: the
    parts' rows (``UNION ALL``) summed outside, so only a row per group comes back."""
    signed = parts[2] is not None
    shaped = [
        part.annotate(sign=Value(sign)).values(*group, *columns, "sign") if signed else part.values(*group, *columns)
        for part, sign in zip(parts, (1, 1, -1), strict=True)
        if part is not None
    ]
    if not shaped:
        return []
    rows = shaped[0].union(*shaped[1:], all=True) if len(shaped) > 1 else shaped[0]
    sql, params = rows.query.sql_with_params()
    sums = ", ".join(f"CAST(SUM({'sign * ' if signed else ''}{c}) AS bigint)" for c in columns)
    keys = ", ".join(group)
    with connections[sf.db].cursor() as cursor:
        cursor.execute(f"SELECT {keys}, {sums} FROM ({sql}) AS parts GROUP BY {keys}", params)
        return [dict(zip((*group, *columns), row, strict=True)) for row in cursor.fetchall()]


def _backlog_before(sf: ServiceFilter, first: date) -> int:
    """The running sum of the backlog column up to ``first``: month rows for the months before its
    month, day rows for the days of its month before it."""
    dims, found = sf.summary_filters(), tables(sf)
    start = first.replace(day=1)
    months = found.months.objects.using(sf.db).filter(month__lt=start, **dims)
    n = months.aggregate(n=Sum("backlog"))["n"] or 0
    if start < first:
        days = found.days.objects.using(sf.db).filter(day__gte=start, day__lt=first, **dims)
        n += days.aggregate(n=Sum("backlog"))["n"] or 0
    return n


def _groups(found: dict, total: int, labels: dict, param: str, order: list | None = None) -> list[Group]:
    keys = order if order is not None else sorted(found, key=lambda k: (-found[k].opened, str(labels.get(k, k))))
    return [
        Group(
            key=str(k),
            label=str(labels.get(k, k)),
            counts=found[k],
            share=found[k].opened / total if total else 0.0,
            param={param: k},
        )
        for k in keys
        if k in found and any(found[k].values.values())
    ]


def _steps(sf: ServiceFilter, backlog_before: int) -> list[Step]:
    period = sf.dates
    sums = {"opened": Sum("opened"), "resolved": Sum("resolved"), "backlog": Sum("backlog")}
    if sf.grain == "week":  # day rows for the whole period
        rows = _summary(sf, tables(sf).days).annotate(step=TruncWeek("day")).values("step").annotate(**sums)
    else:
        months, days, minus = _parts(sf, tables(sf).days, tables(sf).months)
        rows = [
            *(months.annotate(step=F("month")).values("step").annotate(**sums) if months is not None else ()),
            *(days.annotate(step=TruncMonth("day")).values("step").annotate(**sums) if days is not None else ()),
            *(
                {**row, **{k: -(row[k] or 0) for k in sums}}
                for row in (
                    minus.annotate(step=TruncMonth("day")).values("step").annotate(**sums) if minus is not None else ()
                )
            ),
        ]
    found = {}
    for row in rows:
        step = row["step"]
        step = step.date() if hasattr(step, "date") else step
        if step in found:  # a month row and the days to subtract from it
            row = {k: (found[step].get(k) or 0) + (row.get(k) or 0) for k in sums}
        found[step] = row
    first = period.first or min(found, default=period.last)
    steps = []
    cursor = first - timedelta(days=first.weekday()) if sf.grain == "week" else first.replace(day=1)
    running = backlog_before
    while cursor <= period.last and len(steps) < MAX_STEPS:
        if sf.grain == "week":
            following = cursor + timedelta(days=7)
            label = date_format(max(cursor, first), "SHORT_DATE_FORMAT")
        else:
            following = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
            label = date_format(cursor, "YEAR_MONTH_FORMAT")
        row = found.get(cursor, {})
        running += row.get("backlog") or 0
        steps.append(
            Step(
                first=max(cursor, first),
                last=min(following - timedelta(days=1), period.last),
                label=label,
                opened=row.get("opened") or 0,
                resolved=row.get("resolved") or 0,
                backlog=running,
            )
        )
        cursor = following
    return steps


def _times(sf: ServiceFilter) -> Times:
    buckets = {tally.FIRST_RESPONSE: {}, tally.RESOLUTION: {}}
    months, days, minus = _parts(sf, tables(sf).day_times, tables(sf).month_times)
    if months is not None:  # a row per measure, a column per bucket
        for row in _summed(sf, (months, None, None), ("measure",), tally.BUCKET_COLUMNS):
            found = buckets[row["measure"]]
            for k, column in enumerate(tally.BUCKET_COLUMNS):
                if row[column]:
                    found[k] = found.get(k, 0) + row[column]
    for row in _summed(sf, (None, days, minus), ("measure", "bucket"), ("n",)):
        found = buckets[row["measure"]]
        found[row["bucket"]] = found.get(row["bucket"], 0) + row["n"]
    fr, res = buckets[tally.FIRST_RESPONSE], buckets[tally.RESOLUTION]
    return Times(
        fr_median=tally.percentile(fr, 0.5),
        fr_p90=tally.percentile(fr, 0.9),
        fr_count=sum(fr.values()),
        res_median=tally.percentile(res, 0.5),
        res_p90=tally.percentile(res, 0.9),
        res_count=sum(res.values()),
    )


def compute(sf: ServiceFilter) -> ServiceFigures:
    """Every figure of the service dashboard for what ``sf`` selects."""
    total = Counts()
    per = {"category_id": {}, "channel": {}, "team": {}, "priority": {}}
    for row in _summed(sf, _parts(sf, tables(sf).days, tables(sf).months), tuple(per), tally.COLUMNS):
        total.add(row)
        for dimension, found in per.items():
            found.setdefault(row[dimension], Counts()).add(row)
    period = sf.dates
    backlog_before = _backlog_before(sf, period.first) if period.first is not None else 0
    categories = {c.pk: c.label for c in Category.objects.using(sf.db).all()}
    teams = {t.pk: t.label for t in Team.objects.using(sf.db).all()}
    teams[0] = gettext("No team")
    opened = total.opened
    return ServiceFigures(
        period=period,
        total=total,
        backlog_at_start=backlog_before,
        backlog_at_end=backlog_before + total.backlog,
        by_category=_groups(per["category_id"], opened, categories, "category"),
        by_channel=_groups(per["channel"], opened, dict(Channel.choices), "channel"),
        by_team=_groups(per["team"], opened, teams, "team"),
        by_priority=_groups(per["priority"], opened, dict(Priority.choices), "priority", order=list(Priority.values)),
        steps=_steps(sf, backlog_before),
        times=_times(sf),
    )


def hours(minutes: float | None) -> float | None:
    """Working minutes as working hours (one decimal), for the page and the export."""
    return None if minutes is None else round(minutes / 60, 1)
