"""Every number on the dashboard and in the export's Summary sheet, from a fixed set of queries.

``compute(filterset)`` runs a dozen small queries whatever the number of closures,
reasons or staff, and never one query per row or per bar:

1.-3. closures grouped by (action, reason, category), then by (segment, tenure band),
   and the labels of the reasons found;
4. closures grouped by (local month, category): the trend;
5. closures grouped by the staff member who performed them;
6. one conditional aggregate: cards closed (the churn rate's numerator) in this period and the
   comparison period, the comparison period's total, and closures reinstated in this period;
7.-9. the churn rate's denominators (analytics/churn.py): customers before each period's ends
   (customers/counts.py: cached on PostgreSQL), closures in force at each start and cards
   reinstated after it;
10. pending approvals.

Closure counts read the closure tallies for whole months and the closure table for the rest
(analytics/tallied.py). With a card filter no tally counts by (tag, city, source, import batch),
the population's closures are read once and counted in memory instead (analytics/held.py).
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, Sum
from django.utils import translation

from closures import categories as reason_categories
from closures.models import Action, ClosureReason, ClosureRequest
from closures.tally import month_of, tenure_band
from customers.models import Customer

from . import churn
from .filters import TENURE_BANDS, TENURE_LABELS, ClosureFilter, Period, person_name
from .held import Held
from .tallied import Split, counted, sum_rows, tally_for, union

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
    previous: Period | None  # the comparison period: the one just before, or a year earlier
    total: int
    by_action: list[Slice]
    by_reason: list[Slice]
    by_category: list[Slice]
    by_segment: list[Slice]
    by_tenure: list[Slice]
    by_staff: list[Slice]
    months: list[Month]
    trend_categories: list[Slice]  # the categories present in the trend, in legend order
    churn: churn.ChurnFigures
    previous_total: int | None  # closures in the comparison period
    reinstated: int
    pending_approvals: int

    @property
    def churn_rate(self) -> float | None:
        return self.churn.current.rate if self.churn.current else None

    @property
    def previous_churn_rate(self) -> float | None:
        return self.churn.comparison.rate if self.churn.comparison else None

    @property
    def total_change(self) -> float | None:
        """Change of the number of closures against the previous period, in per cent."""
        if not self.previous_total:
            return None
        return (self.total - self.previous_total) * 100 / self.previous_total

    @property
    def leading_reason(self) -> Slice | None:
        return self.by_reason[0] if self.by_reason else None


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

    Narrow GROUP BY keys (reason labels are read afterwards for the few reasons found) keep
    PostgreSQL on an in-memory hash aggregate at any size.
    """
    out = {"action": {}, "reason": {}, "category": {}, "segment": {}, "band": {}, "reasons": {}}
    for row in counted(fs, ("action", "reason_id", "category")):
        total_holder[0] += row["n"]
        _add(out["action"], row["action"], row["n"])
        _add(out["reason"], row["reason_id"], row["n"])
        _add(out["category"], row["category"], row["n"])
    for row in counted(fs, ("segment", "band"), needs={"segment", "tenure"}, band=tenure_band()):
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
    found: dict[date, dict[str, int]] = {}
    for row in counted(fs, ("month", "category"), month=month_of("performed_at")):
        key = int(row["month"])
        _add(found.setdefault(date(key // 12, key % 12 + 1, 1), {}), row["category"], row["n"])
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
    rows = counted(
        fs,
        ("performed_by_id", "performed_by__username", "performed_by__first_name", "performed_by__last_name"),
        needs={"by"},
    )
    names, counts = {}, {}
    for r in rows:
        names[r["performed_by_id"]] = person_name(
            r["performed_by__first_name"], r["performed_by__last_name"], r["performed_by__username"]
        )
        _add(counts, r["performed_by_id"], r["n"])
    return _ranked(counts, total, names.__getitem__, "by")


def _closure_counts(fs: ClosureFilter, period: Period, previous: Period | None, action: str) -> dict:
    """Cards closed (``action``: the churn rate's numerator) now and before, the previous
    total and reinstatements, in one query.

    Without reverted closures a card has at most one closure in the set, so cards are closures
    and the tally can count them; with them, counting distinct cards needs the closure table.
    """
    held = Held.of(fs)
    if held is not None:
        return held.closure_counts(period, previous, action)
    tally = None if fs.include_reverted else tally_for(fs)
    now = Split.of(period.start, period.end, tally=tally is not None)
    before = previous and Split.of(previous.start, previous.end, tally=tally is not None)
    kept = Q() if fs.include_reverted else Q(reverted_at__isnull=True)
    closes = Q(action=action) & kept
    cards = {"distinct": True} if fs.include_reverted else {}
    tally_sums = {
        "closed_cards": now.months() & Q(reverted_month=0, action=action),
        "reinstated": now.months("reverted_month"),
    }
    raw_counts = {
        "closed_cards": Count("customer", filter=now.moments() & closes, **cards),
        "reinstated": Count("id", filter=now.moments("reverted_at")),
    }
    window = now.moments() | now.moments("reverted_at")
    if before is not None:
        tally_sums["previous_total"] = before.months() & Q(reverted_month=0)
        tally_sums["previous_closed_cards"] = before.months() & Q(reverted_month=0, action=action)
        raw_counts["previous_total"] = Count("id", filter=before.moments() & kept)
        raw_counts["previous_closed_cards"] = Count("customer", filter=before.moments() & closes, **cards)
        window |= before.moments()
    tally_part = None
    if tally is not None and (now.has_months or (before is not None and before.has_months)):
        wanted = Q(pk__in=[])
        for q in tally_sums.values():
            wanted |= q
        tally_part = (
            tally.filter(wanted).values("action").annotate(**{k: Sum("n", filter=q) for k, q in tally_sums.items()})
        )
    raw_part = fs.slice_qs().filter(window).order_by().values("action").annotate(**raw_counts)
    return sum_rows(union(tally_part, raw_part), raw_counts)


def compute(fs: ClosureFilter) -> Figures:
    """All the figures for what ``fs`` selects."""
    period = fs.dates
    previous = fs.comparison
    holder = [0]
    grouped = _grouped(fs, holder)
    total = holder[0]
    months, per_category = _months(fs)
    reasons = grouped["reasons"]
    actions, segments = dict(Action.choices), dict(Customer.Segment.choices)
    categories = reason_categories.labels(using=fs.queryset.db)
    action = fs.cleaned.get("action") or Action.CLOSE
    counts = _closure_counts(fs, period, previous, action)
    closed = {period: counts["closed_cards"]}
    if previous is not None:
        closed[previous] = counts["previous_closed_cards"]
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
        churn=churn.compute(fs, tally_counts=closed),
        previous_total=counts.get("previous_total"),
        reinstated=counts["reinstated"],
        pending_approvals=ClosureRequest.objects.using(fs.queryset.db)
        .filter(state=ClosureRequest.State.PENDING)
        .count(),
    )


__all__ = ["TENURE_LABELS", "Figures", "Month", "Slice", "compute", "tenure_band"]
