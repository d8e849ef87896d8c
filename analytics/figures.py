"""Every number on the dashboard and in the export's Summary sheet, from a fixed set of queries.

``compute(filterset)`` runs nine small queries whatever the number of closures,
reasons or staff (GROUP BY over the filtered closures, served by the performed_at,
reason, category and performed_by indexes), and never one query per row or per bar:

1.-3. closures grouped by (action, reason, category), then by (segment, tenure band),
   and the labels of the reasons found;
4. closures grouped by (local month, category): the trend;
5. closures grouped by the staff member who performed them;
6. one conditional aggregate: cards closed in this period and the previous one, the
   previous period's total, and closures reinstated in this period;
7.-8. cards active at the start of this period and of the previous one (the churn
   rate's denominators): customers created before each start, less the cards with a
   closure in force at it;
9. pending approvals.

This module is the one place to swap these queries for a summary table if a larger
data set ever needs it; the rest of the app only sees the ``Figures`` it returns.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Case, CharField, Count, Q, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone, translation

from closures.models import Action, Category, Closure, ClosureReason, ClosureRequest
from customers.models import Customer

from .filters import TENURE_BANDS, TENURE_LABELS, ClosureFilter, Period, person_name

MAX_TREND_MONTHS = 120


@dataclass
class Slice:
    """One bar / table row: a group of closures and the filter that selects it."""

    key: str
    label: str
    count: int
    share: float = 0.0  # of the period's total, 0..1
    note: str = ""  # secondary text, e.g. a reason's category
    retired: bool = False  # a reason no longer offered (kept on old closures)
    params: dict = field(default_factory=dict)  # filter overrides that select this slice


@dataclass
class Month:
    first: date
    counts: dict[str, int]  # category -> closures

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Figures:
    period: Period
    previous: Period | None
    total: int
    by_action: list[Slice]
    by_reason: list[Slice]
    by_category: list[Slice]
    by_segment: list[Slice]
    by_tenure: list[Slice]
    by_staff: list[Slice]
    months: list[Month]
    trend_categories: list[Slice]  # the categories present in the trend, in legend order
    closed_cards: int
    active_at_start: int | None
    previous_total: int | None
    previous_closed_cards: int | None
    previous_active_at_start: int | None
    reinstated: int
    pending_approvals: int

    @property
    def churn_rate(self) -> float | None:
        """Cards closed in the period ÷ cards active at its start (None without a start)."""
        if not self.active_at_start:
            return None
        return self.closed_cards / self.active_at_start

    @property
    def previous_churn_rate(self) -> float | None:
        if not self.previous_active_at_start:
            return None
        return (self.previous_closed_cards or 0) / self.previous_active_at_start

    @property
    def churn_change(self) -> float | None:
        """Change of the churn rate against the previous period, in percentage points."""
        if self.churn_rate is None or self.previous_churn_rate is None:
            return None
        return (self.churn_rate - self.previous_churn_rate) * 100

    @property
    def total_change(self) -> float | None:
        """Change of the number of closures against the previous period, in per cent."""
        if not self.previous_total:
            return None
        return (self.total - self.previous_total) * 100 / self.previous_total

    @property
    def leading_reason(self) -> Slice | None:
        return self.by_reason[0] if self.by_reason else None


def tenure_band():
    """SQL CASE giving each closure's tenure band key from its tenure_days snapshot."""
    whens = [
        When(tenure_days__gte=low, tenure_days__lt=high, then=Value(key))
        for key, _label, low, high in TENURE_BANDS
        if high is not None
    ]
    return Case(*whens, default=Value(TENURE_BANDS[-1][0]), output_field=CharField())


def _ranked(counts: dict, total: int, label, param: str, note=None) -> list[Slice]:
    rows = [
        Slice(
            key=str(key),
            label=label(key),
            count=n,
            share=n / total if total else 0.0,
            note=note(key) if note else "",
            params={param: key},
        )
        for key, n in counts.items()
        if n
    ]
    rows.sort(key=lambda s: (-s.count, s.label))
    return rows


def _mark_retired(rows: list[Slice], retired: set) -> list[Slice]:
    for row in rows:
        row.retired = int(row.key) in retired
    return rows


def _add(counts: dict, key, n: int) -> None:
    counts[key] = counts.get(key, 0) + n


def _grouped(fs: ClosureFilter, total_holder: list) -> dict:
    """Counts by action, reason, category, segment and tenure band, in three small queries.

    Narrow GROUP BY keys of the closure table alone (reason labels are read afterwards for
    the few reasons found) keep PostgreSQL on an in-memory hash aggregate at any size.
    """
    out = {"action": {}, "reason": {}, "category": {}, "segment": {}, "band": {}, "reasons": {}}
    for row in fs.qs.values("action", "reason_id", "category").annotate(n=Count("id")).order_by():
        total_holder[0] += row["n"]
        _add(out["action"], row["action"], row["n"])
        _add(out["reason"], row["reason_id"], row["n"])
        _add(out["category"], row["category"], row["n"])
    for row in fs.qs.annotate(band=tenure_band()).values("segment", "band").annotate(n=Count("id")).order_by():
        _add(out["segment"], row["segment"], row["n"])
        _add(out["band"], row["band"], row["n"])
    zh = (translation.get_language() or "").lower().startswith("zh")
    reasons = ClosureReason.objects.using(fs.queryset.db).filter(pk__in=list(out["reason"]))
    for pk, label_en, label_zh, is_active, category in reasons.values_list(
        "pk", "label_en", "label_zh", "is_active", "category"
    ):
        out["reasons"][pk] = ((label_zh if zh and label_zh else label_en) or "", is_active, category)
    return out


def _months(fs: ClosureFilter) -> tuple[list[Month], dict[str, int]]:
    tz = timezone.get_default_timezone()
    rows = (
        fs.qs.annotate(month=TruncMonth("performed_at", tzinfo=tz))
        .values("month", "category")
        .annotate(n=Count("id"))
        .order_by()
    )
    found: dict[date, dict[str, int]] = {}
    for row in rows:
        moment = row["month"]
        if isinstance(moment, datetime) and timezone.is_aware(moment):
            moment = timezone.localtime(moment, tz)
        first = date(moment.year, moment.month, 1)
        _add(found.setdefault(first, {}), row["category"], row["n"])
    period = fs.dates
    first, last = period.first or min(found, default=period.last), period.last
    if (last.year - first.year) * 12 + last.month - first.month > MAX_TREND_MONTHS:
        # A very long custom range: show the months that have closures rather than centuries of zeros.
        first, last = min(found, default=last), max(found, default=last)
    months, cursor = [], date(first.year, first.month, 1)
    while cursor <= last:
        months.append(Month(first=cursor, counts=found.get(cursor, {})))
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    per_category: dict[str, int] = {}
    for month in months:
        for category, n in month.counts.items():
            _add(per_category, category, n)
    return months, per_category


def _staff(fs: ClosureFilter, total: int) -> list[Slice]:
    rows = (
        fs.qs.values("performed_by_id", "performed_by__username", "performed_by__first_name", "performed_by__last_name")
        .annotate(n=Count("id"))
        .order_by()
    )
    names = {
        r["performed_by_id"]: person_name(
            r["performed_by__first_name"], r["performed_by__last_name"], r["performed_by__username"]
        )
        for r in rows
    }
    counts = {r["performed_by_id"]: r["n"] for r in rows}
    return _ranked(counts, total, names.__getitem__, "by")


def _closure_counts(fs: ClosureFilter, period: Period, previous: Period | None) -> dict:
    """Cards closed now and before, the previous total and reinstatements, in one query."""
    kept = Q() if fs.include_reverted else Q(reverted_at__isnull=True)
    closes = Q(action=Action.CLOSE) & kept
    # Without reverted closures a card has at most one closure in the set, so no DISTINCT (a sort) is needed.
    cards = {"distinct": True} if fs.include_reverted else {}
    now = Q(performed_at__lt=period.end)
    reverted_now = Q(reverted_at__lt=period.end)
    if period.start is not None:
        now &= Q(performed_at__gte=period.start)
        reverted_now &= Q(reverted_at__gte=period.start)
    aggregates = {
        "closed_cards": Count("customer", filter=now & closes, **cards),
        "reinstated": Count("id", filter=reverted_now),
    }
    window = now | reverted_now
    if previous is not None:
        before = Q(performed_at__gte=previous.start, performed_at__lt=previous.end)
        window |= before
        aggregates["previous_total"] = Count("id", filter=before & kept)
        aggregates["previous_closed_cards"] = Count("customer", filter=before & closes, **cards)
    return fs.slice_qs().filter(window).order_by().aggregate(**aggregates)


def _in_force_at(moment: datetime) -> Q:
    """Closures in force at ``moment``: performed before it and not reverted before it."""
    return Q(performed_at__lt=moment) & (Q(reverted_at__isnull=True) | Q(reverted_at__gte=moment))


def _active_cards(fs: ClosureFilter, period: Period, previous: Period | None) -> dict:
    """Cards active at the start of the period (and of the previous one), in two aggregate queries.

    Active at a moment = created before it, less the cards with a closure in force at it
    (performed before it and not reverted before it; a card has at most one closure in force
    at any moment, since it must be reinstated before it can be closed again, so closures
    are counted without DISTINCT). Counting the two separately avoids an anti-join per
    customer. The segment and owner filters narrow the cards by their current
    segment and owner, so a segment's churn rate is its closures over its own cards.
    """
    if period.start is None:
        return {"active": None, "previous_active": None}
    data = fs.cleaned
    cards = Customer.objects.using(fs.queryset.db).order_by()
    closures = Closure.objects.using(fs.queryset.db).order_by()
    if data.get("segment"):
        cards = cards.filter(segment=data["segment"])
        closures = closures.filter(customer__segment=data["segment"])
    if data.get("owner"):
        cards = cards.filter(owner=data["owner"])
        closures = closures.filter(customer__owner=data["owner"])
    moments = {"active": period.start}
    if previous is not None:
        moments["previous_active"] = previous.start
    created = cards.filter(created_at__lt=period.start).aggregate(
        **{key: Count("pk", filter=Q(created_at__lt=moment)) for key, moment in moments.items()}
    )
    closed = closures.filter(performed_at__lt=period.start).aggregate(
        **{key: Count("id", filter=_in_force_at(moment)) for key, moment in moments.items()}
    )
    return {key: created[key] - closed[key] for key in moments}


def compute(fs: ClosureFilter) -> Figures:
    """All the figures for what ``fs`` selects."""
    period = fs.dates
    previous = period.previous()
    holder = [0]
    grouped = _grouped(fs, holder)
    total = holder[0]
    months, per_category = _months(fs)
    reasons = grouped["reasons"]
    actions, categories, segments = dict(Action.choices), dict(Category.choices), dict(Customer.Segment.choices)
    counts = _closure_counts(fs, period, previous)
    active = _active_cards(fs, period, previous)
    category_order = {key: i for i, key in enumerate(categories)}
    return Figures(
        period=period,
        previous=previous,
        total=total,
        by_action=[
            Slice(
                key=k,
                label=str(v),
                count=grouped["action"].get(k, 0),
                share=grouped["action"].get(k, 0) / total if total else 0.0,
                params={"action": k},
            )
            for k, v in actions.items()
        ],
        by_reason=_mark_retired(
            _ranked(
                grouped["reason"],
                total,
                lambda k: reasons[k][0],
                "reason",
                note=lambda k: str(categories.get(reasons[k][2], reasons[k][2])),
            ),
            {k for k, v in reasons.items() if not v[1]},
        ),
        by_category=_ranked(grouped["category"], total, lambda k: str(categories.get(k, k)), "category"),
        by_segment=_ranked(grouped["segment"], total, lambda k: str(segments.get(k, k)), "segment"),
        by_tenure=[
            Slice(
                key=key,
                label=str(label),
                count=grouped["band"].get(key, 0),
                share=grouped["band"].get(key, 0) / total if total else 0.0,
                params={"tenure": key},
            )
            for key, label, _lo, _hi in TENURE_BANDS
        ],
        by_staff=_staff(fs, total),
        months=months,
        trend_categories=sorted(
            _ranked(per_category, total, lambda k: str(categories.get(k, k)), "category"),
            key=lambda s: category_order.get(s.key, 99),
        ),
        closed_cards=counts["closed_cards"],
        active_at_start=active["active"],
        previous_total=counts.get("previous_total"),
        previous_closed_cards=counts.get("previous_closed_cards"),
        previous_active_at_start=active.get("previous_active"),
        reinstated=counts["reinstated"],
        pending_approvals=ClosureRequest.objects.using(fs.queryset.db)
        .filter(state=ClosureRequest.State.PENDING)
        .count(),
    )


__all__ = ["TENURE_LABELS", "Figures", "Month", "Slice", "compute", "tenure_band"]
