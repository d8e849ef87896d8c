"""Counting closures from the tallies where they can serve a figure, from the closure table where not.

Each closure count is one ``UNION ALL`` of two parts, summed in Python:

- the local months lying wholly inside the period, read from a closure tally
  (closures/tally.py: a few thousand rows counted by month, kept in step by the operations);
- the partial months at the period's ends, read from the closure table through the
  performed_at (or reverted_at) index.

A filter the tally cannot serve (the owner, a card filter such as tag or import batch, the
performer with segment or tenure, distinct cards with "include reverted") turns the figure's
range into one "partial" part covering the whole period: the same query reads only the closure
table. A viewer's data scope (the cards of some owners) is served by the owner tallies, keyed by
the card's owner now like the scope itself (``Closure.card_owner``). Used by analytics/figures.py
and analytics/churn.py.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.utils import timezone

from closures.models import (
    ClosureOwnerBandTally,
    ClosureOwnerStaffTally,
    ClosureOwnerTally,
    ClosureStaffTally,
    ClosureTally,
)
from closures.tally import month_key, month_start

from .filters import ClosureFilter
from .held import Held

# The filters, and the tally column each one selects on.
TALLY_COLUMNS = {
    "action": "action",
    "category": "category",
    "reason": "reason",
    "segment": "segment",
    "tenure": "band",
    "by": "performed_by",
    "owner": None,  # no tally counts by owner
    # ... nor by the card's current tag, city, source or import batch (analytics/population.py)
    "tag": None,
    "city": None,
    "source": None,
    "batch": None,
    "scope": "owner_key__in",  # a viewer's data scope: the owners whose cards they see (crm/scopes.py)
}
# Smallest first; the first also serves the churn denominators (all closures, unfiltered).
TALLIES = (
    (ClosureTally, {"action", "category", "reason", "segment", "tenure"}),
    (ClosureStaffTally, {"action", "category", "reason", "by"}),
    (ClosureOwnerTally, {"action", "category", "reason", "scope"}),
    (ClosureOwnerBandTally, {"action", "segment", "tenure", "scope"}),
    (ClosureOwnerStaffTally, {"action", "by", "scope"}),
)


def _holds(model, columns) -> bool:
    names = {f.name for f in model._meta.concrete_fields} | {f.attname for f in model._meta.concrete_fields}
    return all(column.split("__")[0] in names for column in columns)


def tally_for(fs: ClosureFilter, needs: set[str] = frozenset(), columns: tuple[str, ...] = ()):
    """The smallest tally holding every dimension the filters and the figure need, and the
    ``columns`` it groups by, filtered like ``fs`` (period aside), or None when the figure must
    read the closure table alone."""
    data = fs.cleaned
    used = {name for name in TALLY_COLUMNS if data.get(name) not in (None, "")}
    for model, dimensions in TALLIES:
        if used | needs <= dimensions and _holds(model, columns):
            rows = model.objects.using(fs.queryset.db).order_by().exclude(n=0)  # rows counted down to zero
            return rows.filter(**{TALLY_COLUMNS[name]: data[name] for name in used})
    return None


def population_tally(people, db: str):
    """A tally counting every closure of ``people`` (analytics/population.py) by month, reverted
    month, action and category: the main tally without a card filter, the owner tally for the cards
    of some owners (their card's owner now, as the population means it); None for other card
    filters, whose closures only the closure table can select (and with no tallies at all: the tests
    that compare both ways empty ``TALLIES``)."""
    if not TALLIES:
        return None
    if people.cards is None:
        return ClosureTally.objects.using(db).order_by()
    if people.owners is not None:
        return ClosureOwnerTally.objects.using(db).order_by().filter(owner_key__in=people.owners)
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


def union(tally_part, raw_part) -> list[dict]:
    """Rows of the tally part and the closure part (same columns), in one query; either may be None."""
    parts = [part for part in (tally_part, raw_part) if part is not None]
    if not parts:
        return []
    return list(parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0])


def counted(fs: ClosureFilter, columns: tuple[str, ...], *, needs: set[str] = frozenset(), **annotations):
    """``fs``'s closures counted by ``columns`` (annotations computed on the closure table, e.g. the
    month, are given as expressions; tallies hold them as columns): a list of dicts with ``n``.
    A population held in memory (analytics/held.py) is counted there."""
    held = Held.of(fs)
    if held is not None:
        return held.counted(columns)
    tally = tally_for(fs, needs, columns)
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
    return union(tally_part, raw_part)


def sum_rows(rows: list[dict], keys) -> dict:
    return {key: sum(row[key] or 0 for row in rows) for key in keys}
