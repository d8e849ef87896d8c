"""Every number on the dashboard and in the export's Summary sheet, from a fixed set of queries.

``compute(filterset)`` runs nine small queries whatever the number of closures,
reasons or staff, and never one query per row or per bar:

1.-3. closures grouped by (action, reason, category), then by (segment, tenure band),
   and the labels of the reasons found;
4. closures grouped by (local month, category): the trend;
5. closures grouped by the staff member who performed them;
6. one conditional aggregate: cards closed in this period and the previous one, the
   previous period's total, and closures reinstated in this period;
7.-8. cards active at the start of this period and of the previous one (the churn
   rate's denominators): customers created before each start (customers/counts.py: an
   index-only count, cached on PostgreSQL under a token that changes whenever such a count
   can), less the cards with a closure in force at it;
9. pending approvals.

Each closure count is one ``UNION ALL`` of two parts, summed in Python:

- the local months lying wholly inside the period, read from a closure tally
  (closures/tally.py: a few thousand rows counted by month, kept in step by the operations);
- the partial months at the period's ends, read from the closure table through the
  performed_at (or reverted_at) index.

A filter the tally cannot serve (the owner, the performer with segment or tenure, distinct
cards with "include reverted", the current segment for the churn denominators) turns the
figure's range into one "partial" part covering the whole period: the same query reads only
the closure table, exactly as before the tally existed.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from closures.models import Action, Category, Closure, ClosureReason, ClosureRequest, ClosureStaffTally, ClosureTally
from closures.tally import month_key, month_of, month_start, tenure_band
from customers.counts import created_before_each
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


# --- where the counts come from -------------------------------------------------------------------
# The filters, and the tally column each one selects on.
TALLY_COLUMNS = {
    "action": "action",
    "category": "category",
    "reason": "reason",
    "segment": "segment",
    "tenure": "band",
    "by": "performed_by",
    "owner": None,  # no tally counts by owner
}
# Smallest first; the first also serves the churn denominators (all closures, unfiltered).
TALLIES = (
    (ClosureTally, {"action", "category", "reason", "segment", "tenure"}),
    (ClosureStaffTally, {"action", "category", "reason", "by"}),
)


def _tally(fs: ClosureFilter, needs: set[str] = frozenset()):
    """The smallest tally holding every dimension the filters and the figure need, filtered like
    ``fs`` (period aside), or None when the figure must read the closure table alone."""
    data = fs.cleaned
    used = {name for name in TALLY_COLUMNS if data.get(name) not in (None, "")}
    for model, dimensions in TALLIES:
        if used | needs <= dimensions:
            rows = model.objects.using(fs.queryset.db).order_by().exclude(n=0)  # rows counted down to zero
            return rows.filter(**{TALLY_COLUMNS[name]: data[name] for name in used})
    return None


@dataclass(frozen=True)
class Split:
    """A range of moments [start, end) as the local months lying wholly inside it (months
    ``first``..``stop - 1``, read from a tally) and the partial months at its ends (``edges``,
    read from the closure table). Without a tally the whole range is one edge.

    A month the range ends in counts as whole when the range reaches past the present: closures
    are stamped with the time they are written, so none lies after now. (A raw row written with
    a future time, which only a test can do, would be counted in a period that has not reached it.)
    """

    first: int | None  # None: from the beginning
    stop: int
    edges: tuple[tuple[datetime | None, datetime], ...]

    @classmethod
    def of(cls, start: datetime | None, end: datetime, *, tally: bool) -> "Split":
        stop = month_key(end)
        if end > timezone.now():
            # The rest of the month holds no closures yet (the operations stamp them with the
            # current time), so the current month counts as whole: no partial month at the end.
            stop += 1
        first = None if start is None else month_key(start)
        if first is not None and month_start(first) < start:
            first += 1
        if not tally or (first is not None and first >= stop):
            return cls(first=0, stop=0, edges=((start, end),))
        edges = []
        if first is not None and start < month_start(first):
            edges.append((start, month_start(first)))
        if month_start(stop) < end:
            edges.append((month_start(stop), end))
        return cls(first=first, stop=stop, edges=tuple(edges))

    @property
    def has_months(self) -> bool:
        return self.first is None or self.first < self.stop

    def months(self, column: str = "month") -> Q:
        """Tally rows whose ``column`` month lies wholly inside the range (0 = not reverted never does)."""
        if not self.has_months:
            return Q(pk__in=[])
        q = Q(**{f"{column}__lt": self.stop, f"{column}__gt": 0})
        return q & Q(**{f"{column}__gte": self.first}) if self.first is not None else q

    def moments(self, column: str = "performed_at") -> Q:
        """Closure rows whose ``column`` lies in the partial months."""
        q = Q(pk__in=[])
        for start, end in self.edges:
            part = Q(**{f"{column}__lt": end})
            q |= part & Q(**{f"{column}__gte": start}) if start is not None else part
        return q


def _union(tally_part, raw_part) -> list[dict]:
    """Rows of the tally part and the closure part (same columns), in one query; either may be None."""
    parts = [part for part in (tally_part, raw_part) if part is not None]
    if not parts:
        return []
    return list(parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0])


def _counted(fs: ClosureFilter, columns: tuple[str, ...], *, needs: set[str] = frozenset(), **annotations):
    """``fs``'s closures counted by ``columns`` (annotations computed on the closure table, e.g. the
    month, are given as expressions; tallies hold them as columns): a list of dicts with ``n``."""
    tally = _tally(fs, needs)
    split = Split.of(fs.dates.start, fs.dates.end, tally=tally is not None)
    tally_part = None
    if tally is not None and split.has_months:
        if not fs.include_reverted:
            tally = tally.filter(reverted_month=0)
        tally_part = tally.filter(split.months()).values(*columns).annotate(n=Sum("n"))
    raw_part = None
    if split.edges:
        raw_part = fs.qs.filter(split.moments()).order_by().annotate(**annotations).values(*columns)
        raw_part = raw_part.annotate(n=Count("id"))
    return _union(tally_part, raw_part)


def _grouped(fs: ClosureFilter, total_holder: list) -> dict:
    """Counts by action, reason, category, segment and tenure band, in three small queries.

    Narrow GROUP BY keys (reason labels are read afterwards for the few reasons found) keep
    PostgreSQL on an in-memory hash aggregate at any size.
    """
    out = {"action": {}, "reason": {}, "category": {}, "segment": {}, "band": {}, "reasons": {}}
    for row in _counted(fs, ("action", "reason_id", "category")):
        total_holder[0] += row["n"]
        _add(out["action"], row["action"], row["n"])
        _add(out["reason"], row["reason_id"], row["n"])
        _add(out["category"], row["category"], row["n"])
    for row in _counted(fs, ("segment", "band"), needs={"segment", "tenure"}, band=tenure_band()):
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
    for row in _counted(fs, ("month", "category"), month=month_of("performed_at")):
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
    rows = _counted(
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


def _sum_rows(rows: list[dict], keys) -> dict:
    return {key: sum(row[key] or 0 for row in rows) for key in keys}


def _closure_counts(fs: ClosureFilter, period: Period, previous: Period | None) -> dict:
    """Cards closed now and before, the previous total and reinstatements, in one query.

    Without reverted closures a card has at most one closure in the set, so cards are closures
    and the tally can count them; with them, counting distinct cards needs the closure table.
    """
    tally = None if fs.include_reverted else _tally(fs)
    now = Split.of(period.start, period.end, tally=tally is not None)
    before = previous and Split.of(previous.start, previous.end, tally=tally is not None)
    kept = Q() if fs.include_reverted else Q(reverted_at__isnull=True)
    closes = Q(action=Action.CLOSE) & kept
    cards = {"distinct": True} if fs.include_reverted else {}
    tally_sums = {
        "closed_cards": now.months() & Q(reverted_month=0, action=Action.CLOSE),
        "reinstated": now.months("reverted_month"),
    }
    raw_counts = {
        "closed_cards": Count("customer", filter=now.moments() & closes, **cards),
        "reinstated": Count("id", filter=now.moments("reverted_at")),
    }
    window = now.moments() | now.moments("reverted_at")
    if before is not None:
        tally_sums["previous_total"] = before.months() & Q(reverted_month=0)
        tally_sums["previous_closed_cards"] = before.months() & Q(reverted_month=0, action=Action.CLOSE)
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
    return _sum_rows(_union(tally_part, raw_part), raw_counts)


def _active_cards(fs: ClosureFilter, period: Period, previous: Period | None) -> dict:
    """Cards active at the start of the period (and of the previous one), in two aggregate queries.

    Active at a moment = created before it, less the cards with a closure in force at it:
    closures performed before it less those reverted before it (a card has at most one closure
    in force at any moment, since it must be reinstated before it can be closed again, so
    closures are counted without DISTINCT). Counting the two separately avoids an anti-join per
    customer. The segment and owner filters narrow the cards by their *current* segment and
    owner, so a segment's churn rate is its closures over its own cards; the tally holds the
    segment at closing time, so those filters read the closure table.
    Without them, the cards created before each start come from ``created_before_each``, which on
    PostgreSQL reads a cached count while no card has been backdated or deleted since.
    """
    if period.start is None:
        return {"active": None, "previous_active": None}
    data = fs.cleaned
    db = fs.queryset.db
    cards = Customer.objects.using(db).order_by()
    closures = Closure.objects.using(db).order_by()
    current = data.get("segment") or data.get("owner")
    if data.get("segment"):
        cards = cards.filter(segment=data["segment"])
        closures = closures.filter(customer__segment=data["segment"])
    if data.get("owner"):
        cards = cards.filter(owner=data["owner"])
        closures = closures.filter(customer__owner=data["owner"])
    starts = {"active": period.start}
    if previous is not None:
        starts["previous_active"] = previous.start
    if current:
        created = cards.filter(created_at__lt=period.start).aggregate(
            **{key: Count("created_at", filter=Q(created_at__lt=moment)) for key, moment in starts.items()}
        )
    else:  # every card: a count cached until a card is backdated or deleted (customers/counts.py)
        created = dict(zip(starts, created_before_each(list(starts.values()), using=db), strict=True))
    # Closures in force at each start: performed before it less reverted before it.
    moments = {key: Split.of(None, moment, tally=not current and bool(TALLIES)) for key, moment in starts.items()}
    tally_part = None
    if not current and TALLIES:
        tally_part = (
            TALLIES[0][0]
            .objects.using(db)
            .order_by()
            .values("action")
            .annotate(
                **{
                    key: Coalesce(Sum("n", filter=split.months()), 0)
                    - Coalesce(Sum("n", filter=split.months("reverted_month")), 0)
                    for key, split in moments.items()
                }
            )
        )
    window = Q(pk__in=[])
    for split in moments.values():
        window |= split.moments() | split.moments("reverted_at")
    raw_part = (
        closures.filter(window)
        .values("action")
        .annotate(
            **{
                key: Count("id", filter=split.moments()) - Count("id", filter=split.moments("reverted_at"))
                for key, split in moments.items()
            }
        )
    )
    closed = _sum_rows(_union(tally_part, raw_part), moments)
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
