"""The churn-warning dashboard's figures: five panels, each computed on its own (the page loads each
by htmx, so a slow one keeps no other waiting), each from an aggregate query over a small table or
an index.

1. ``risk_over_time``: the active customers by risk band, and the value at risk of the medium and
   high ones, from the day rows the scoring runs keep (``RiskDay``: rewritten by each run for its
   day). A day per row up to two months; beyond, the last scored day of each week (up to about a
   year) or month: the customers are a stock, so a week shows where it ended, not a sum of its days.
2. ``at_risk_now``: the medium and high risk customers and their value at risk on the latest scored
   day up to the period's end, by RFM segment and by owner.
3. ``value_lost``: the closures of the period not reverted (``ClosureValue``: one row per closure,
   with the card's expected and historical value when it was closed), by reason and by category,
   with the share that had been warned about beforehand.
4. ``retention``: the retention actions taken in the period by kind and outcome, the retention rate
   (retained of those settled), and the closure reasons of the ones that ended in a closure.
5. ``early_warning``: how many of the period's closures were warned about beforehand, and how long
   before (median, mean, and a distribution).

The owner and segment filters narrow panels 1 and 2 (the day rows carry both); the owner narrows
panel 4 (the card's owner); the closure panels 3 and 5 read the closure rows alone and take the
"closures counted" filter instead (the close action, or every action).

Speed, measured on PostgreSQL with 150,000 closure rows over two years and a year of day rows
(492,750: 1,350 a day, 50 owners × 9 segments × 3 bands), 20 runs each, 2 cores at load 6-8:
p95 risk over time 22-77 ms (a year by week 61), at risk now 10-31, value lost 35-67 (all time 67),
retention 5-13, early warning 24-53. The closure panels are plain GROUP BYs over the period's
closure rows: fast enough without a summary table (a day tally would save ~40 ms at this size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Count, Sum
from django.utils.formats import date_format
from django.utils.translation import gettext

from closures import categories
from closures.models import ClosureReason
from customers.models import Customer
from insights import risk
from insights.models import ClosureValue, RetentionAction, RiskDay, Segment

from .churn_warning_filters import ChurnWarningFilter
from .filters import person_name

BANDS = [key for _lowest, key, _label in risk.BANDS]  # high, medium, low
BAND_LABELS = {key: label for _lowest, key, label in risk.BANDS}
WARNED = ("high", "medium")
DAILY_UP_TO, WEEKLY_UP_TO = 62, 400  # days in the period
LEAD_BUCKETS = [(0, 7, "0–7"), (8, 30, "8–30"), (31, 90, "31–90"), (91, None, "90+")]
ZERO = Decimal("0")


def share(part, whole) -> float | None:
    return part / whole if whole else None


# --- 1. risk over time ---------------------------------------------------------------------
@dataclass
class RiskStep:
    day: date  # the scored day the row shows
    first: date  # the week's or month's first day within the period (the day itself by day)
    last: date
    label: str
    counts: dict = field(default_factory=dict)  # band -> customers
    value_at_risk: Decimal = ZERO  # of the medium and high risk customers

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class RiskOverTime:
    grain: str  # "day", "week", "month"
    steps: list[RiskStep]


def _day_rows(cf: ChurnWarningFilter):
    rows = RiskDay.objects.using(cf.db).order_by()
    if cf.owner_id:
        rows = rows.filter(owner_id=cf.owner_id)
    if cf.scope is not None:
        rows = rows.filter(owner_id__in=cf.scope)
    if cf.segment:
        rows = rows.filter(segment=cf.segment)
    return rows


def _step_of(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _step_end(first: date, grain: str) -> date:
    if grain == "week":
        return first + timedelta(days=6)
    if grain == "month":
        return date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)
    return first


def scored_days(using: str, first: date | None, last: date) -> list[date]:
    """The days with day rows from ``first`` (None: the first) to ``last``, read as a skip scan of
    the (day, band) index: one probe per day. A plain SELECT DISTINCT day reads every row of the
    period: 115 ms for a year of 1,350 rows a day on PostgreSQL, against 8 ms for this."""
    table = connections[using].ops.quote_name(RiskDay._meta.db_table)
    since, params = ("day >= %s AND ", [first]) if first is not None else ("", [])
    sql = (
        f"WITH RECURSIVE scored(day) AS (SELECT MIN(day) FROM {table} WHERE {since}day <= %s "
        f"UNION ALL SELECT (SELECT MIN(r.day) FROM {table} r WHERE r.day > scored.day AND r.day <= %s) "
        "FROM scored WHERE scored.day IS NOT NULL) SELECT day FROM scored WHERE day IS NOT NULL"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [*params, last, last])
        found = [row[0] for row in cursor.fetchall()]
    return [date.fromisoformat(day) if isinstance(day, str) else day for day in found]  # SQLite: text


def risk_over_time(cf: ChurnWarningFilter) -> RiskOverTime:
    """Two queries on the (day, band) index: the scored days of the period (``scored_days``), then
    the counts of the one day shown per step (a year by week: 52 days of rows, 52 ms)."""
    period = cf.dates
    scored = scored_days(cf.db, period.first, period.last)
    if not scored:
        return RiskOverTime(grain="day", steps=[])
    span = (period.last - (period.first or scored[0])).days + 1
    grain = "day" if span <= DAILY_UP_TO else "week" if span <= WEEKLY_UP_TO else "month"
    shown: dict[date, date] = {}  # step's first day -> its last scored day
    for day in scored:
        shown[_step_of(day, grain)] = day
    by_day = {}
    for first, day in shown.items():
        last = min(_step_end(first, grain), period.last)
        first = max(first, period.first) if period.first else first
        label = date_format(day, "SHORT_DATE_FORMAT")
        by_day[day] = RiskStep(day=day, first=first, last=last, label=label, counts=dict.fromkeys(BANDS, 0))
    rows = _day_rows(cf).filter(day__in=list(by_day)).values("day", "band")
    for row in rows.annotate(n=Sum("customers"), var=Sum("value_at_risk")):
        step = by_day[row["day"]]
        step.counts[row["band"]] = step.counts.get(row["band"], 0) + (row["n"] or 0)
        if row["band"] in WARNED:
            step.value_at_risk += row["var"] or ZERO
    return RiskOverTime(grain=grain, steps=[by_day[d] for d in sorted(by_day)])


# --- 2. at risk now, by segment and owner --------------------------------------------------
@dataclass
class AtRiskRow:
    key: object
    label: str
    high: int = 0
    medium: int = 0
    value_at_risk: Decimal = ZERO

    @property
    def customers(self) -> int:
        return self.high + self.medium


@dataclass
class AtRiskNow:
    day: date | None
    by_segment: list[AtRiskRow]
    by_owner: list[AtRiskRow]
    total: AtRiskRow


def _pivot(rows, key: str, labels: dict) -> list[AtRiskRow]:
    found: dict = {}
    for row in rows:
        k = row[key]
        line = found.setdefault(k, AtRiskRow(key=k, label=str(labels.get(k, k))))
        setattr(line, row["band"], getattr(line, row["band"]) + (row["n"] or 0))
        line.value_at_risk += row["var"] or ZERO
    return sorted(found.values(), key=lambda r: (-r.value_at_risk, -r.customers, r.label))


def at_risk_now(cf: ChurnWarningFilter) -> AtRiskNow:
    """The latest scored day up to the period's end (one index probe), then its medium and high rows
    (a few hundred) by segment and by owner."""
    latest = (
        RiskDay.objects.using(cf.db)
        .filter(day__lte=cf.dates.last)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if latest is None:
        return AtRiskNow(day=None, by_segment=[], by_owner=[], total=AtRiskRow(key="", label=""))
    rows = _day_rows(cf).filter(day=latest, band__in=WARNED)
    sums = {"n": Sum("customers"), "var": Sum("value_at_risk")}
    by_segment = _pivot(rows.values("segment", "band").annotate(**sums), "segment", dict(Segment.choices))
    owner_rows = list(rows.values("owner_id", "band").annotate(**sums))
    ids = {row["owner_id"] for row in owner_rows if row["owner_id"] is not None}
    users = get_user_model().objects.using(cf.db).filter(pk__in=ids)
    names = {u.pk: person_name(u.first_name, u.last_name, u.get_username()) for u in users}
    names[None] = gettext("No owner")
    by_owner = _pivot(owner_rows, "owner_id", names)
    total = AtRiskRow(key="", label=gettext("Total"))
    for row in by_segment:
        total.high, total.medium = total.high + row.high, total.medium + row.medium
        total.value_at_risk += row.value_at_risk
    return AtRiskNow(day=latest, by_segment=by_segment, by_owner=by_owner, total=total)


# --- 3. value lost by closure reason -------------------------------------------------------
@dataclass
class LostRow:
    key: object
    label: str
    category: str = ""
    retired: bool = False
    closures: int = 0
    expected_value: Decimal = ZERO
    historical_value: Decimal = ZERO
    warned: int = 0
    value_share: float | None = None
    url: str = ""  # the closure list of this reason in the period (set with the chart)

    @property
    def warned_share(self) -> float | None:
        return share(self.warned, self.closures)

    def add(self, row: dict) -> None:
        self.closures += row["n"]
        self.expected_value += row["ev"] or ZERO
        self.historical_value += row["hv"] or ZERO
        self.warned += row["warned"]


@dataclass
class ValueLost:
    by_reason: list[LostRow]
    by_category: list[LostRow]
    total: LostRow


def _closure_rows(cf: ChurnWarningFilter):
    """The period's closure rows not reverted, of the action(s) counted: a range of the
    (day, reason_id) index."""
    period = cf.dates
    rows = ClosureValue.objects.using(cf.db).order_by().filter(reverted=False, day__lte=period.last)
    if period.first is not None:
        rows = rows.filter(day__gte=period.first)
    if cf.scope is not None:  # the cards of the owners the viewer sees
        rows = rows.filter(customer_id__in=Customer.objects.using(cf.db).filter(owner_id__in=cf.scope).values("pk"))
    return rows if cf.every_action else rows.filter(action="close")


def value_lost(cf: ChurnWarningFilter) -> ValueLost:
    """One GROUP BY (reason, category) over the period's closure rows; categories summed here."""
    sums = {"n": Count("pk"), "ev": Sum("expected_value"), "hv": Sum("historical_value"), "warned": Count("warned_on")}
    found = list(_closure_rows(cf).values("reason_id", "category").annotate(**sums))
    ids = {row["reason_id"] for row in found if row["reason_id"] is not None}
    reasons = {r.pk: r for r in ClosureReason.objects.using(cf.db).filter(pk__in=ids)}
    category_labels = categories.labels(using=cf.db)
    by_reason: dict = {}
    by_category: dict = {}
    total = LostRow(key="", label=gettext("Total"))
    for row in found:
        reason = reasons.get(row["reason_id"])
        label = reason.label if reason else gettext("No reason")
        line = by_reason.setdefault(
            row["reason_id"],
            LostRow(key=row["reason_id"], label=label, retired=bool(reason and not reason.is_active)),
        )
        line.category = category_labels.get(row["category"], row["category"])
        line.add(row)
        key = row["category"]
        by_category.setdefault(key, LostRow(key=key, label=category_labels.get(key, key) or gettext("None"))).add(row)
        total.add(row)
    ordered = [
        sorted(group.values(), key=lambda r: (-r.expected_value, -r.closures, r.label))
        for group in (by_reason, by_category)
    ]
    for line in (*ordered[0], *ordered[1]):
        line.value_share = share(line.expected_value, total.expected_value)
    return ValueLost(by_reason=ordered[0], by_category=ordered[1], total=total)


# --- 4. retention actions and their outcomes -----------------------------------------------
OUTCOMES = list(RetentionAction.Outcome.values)  # open, retained, closed, lapsed


@dataclass
class ActionRow:
    key: str
    label: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def settled(self) -> int:
        return self.total - self.counts["open"]

    @property
    def retention_rate(self) -> float | None:
        return share(self.counts["retained"], self.settled)

    @property
    def cells(self) -> list[int]:
        return [self.counts[o] for o in OUTCOMES]


@dataclass
class Retention:
    by_kind: list[ActionRow]
    total: ActionRow
    closed_reasons: list[tuple[str, int]]


def retention(cf: ChurnWarningFilter) -> Retention:
    """The period's actions (by when they were taken) by kind and outcome: a small table."""
    period = cf.dates
    actions = RetentionAction.objects.using(cf.db).order_by().filter(created_at__lt=period.end)
    if period.start is not None:
        actions = actions.filter(created_at__gte=period.start)
    if cf.owner_id:
        actions = actions.filter(customer__owner_id=cf.owner_id)
    if cf.scope is not None:
        actions = actions.filter(customer__owner_id__in=cf.scope)
    rows = {k: ActionRow(key=k, label=str(label)) for k, label in RetentionAction.Kind.choices}
    total = ActionRow(key="", label=gettext("Total"))
    for row in actions.values("kind", "outcome").annotate(n=Count("pk")):
        for line in (rows[row["kind"]], total):
            line.counts[row["outcome"]] += row["n"]
    closed = actions.filter(outcome=RetentionAction.Outcome.CLOSED).values("closure__reason_id")
    counts = {row["closure__reason_id"]: row["n"] for row in closed.annotate(n=Count("pk"))}
    reasons = {r.pk: r.label for r in ClosureReason.objects.using(cf.db).filter(pk__in=[k for k in counts if k])}
    closed_reasons = sorted(
        ((reasons.get(k) or gettext("No reason"), n) for k, n in counts.items()), key=lambda item: (-item[1], item[0])
    )
    return Retention(by_kind=list(rows.values()), total=total, closed_reasons=closed_reasons)


# --- 5. early warning ----------------------------------------------------------------------
@dataclass
class LeadBucket:
    label: str
    count: int
    share: float | None


@dataclass
class EarlyWarning:
    closures: int
    warned: int
    median_days: float | None
    mean_days: float | None
    buckets: list[LeadBucket]

    @property
    def warned_share(self) -> float | None:
        return share(self.warned, self.closures)


def _median(counts: dict[int, int], n: int) -> float | None:
    """The median of ``n`` values given as value -> how many."""
    if not n:
        return None
    wanted, found, seen = ((n - 1) // 2, n // 2), [], 0
    for value in sorted(counts):
        seen += counts[value]
        found += [value for position in wanted[len(found) :] if position < seen]
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def early_warning(cf: ChurnWarningFilter) -> EarlyWarning:
    """One GROUP BY lead time (a few hundred values at most) over the period's closure rows."""
    counts: dict[int, int] = {}
    closures = 0
    for lead, n in _closure_rows(cf).values("lead_days").annotate(n=Count("pk")).values_list("lead_days", "n"):
        closures += n
        if lead is not None:
            counts[lead] = counts.get(lead, 0) + n
    warned = sum(counts.values())
    buckets = []
    for low, high, label in LEAD_BUCKETS:
        n = sum(c for d, c in counts.items() if d >= low and (high is None or d <= high))
        buckets.append(LeadBucket(label=gettext("%(days)s days") % {"days": label}, count=n, share=share(n, warned)))
    return EarlyWarning(
        closures=closures,
        warned=warned,
        median_days=_median(counts, warned),
        mean_days=round(sum(d * c for d, c in counts.items()) / warned, 1) if warned else None,
        buckets=buckets,
    )
