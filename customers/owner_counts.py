"""The cards of some owners counted by "customer since": a data scope's churn denominators and cohort
sizes (analytics/population.py), without counting half a million cards on every dashboard.

A Manager scoped to their team sees the cards of a dozen owners, about half of a million cards.
Counted afresh, the team's cards by day of "customer since" are one grouped count over the
(owner, customer_since) index: 36–43 ms on the benchmark, the largest cost of the team's dashboard.
Yet, as customers/counts.py explains for every card, the count of an owner's cards before a day
safely in the past almost never changes, and on PostgreSQL the card epoch token changes whenever
it can: an insert with an old "customer since", a change of it, a delete (migrations 0007, 0012)
and a change of owner (migration 0021). So each owner's days before the settled day are cached under
(database alias, owner, settled day, token), and only the days since are counted on every call,
from a short range of the same index. SQLite (development, the fast tests) counts every time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate

from django.core.cache import cache
from django.db import connections
from django.db.models import Count

from .counts import EPOCH_TABLE, TIMEOUT, settled_day
from .models import Customer


@dataclass(frozen=True)
class Days:
    """Cards by day of "customer since", oldest first, with running totals, and by month."""

    days: tuple[date, ...] = ()
    running: tuple[int, ...] = ()
    months: dict[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[tuple[date, int]]) -> Days:
        rows = sorted(rows)
        months: dict[int, int] = {}
        for day, n in rows:
            key = day.year * 12 + day.month - 1
            months[key] = months.get(key, 0) + n
        return cls(tuple(day for day, _n in rows), tuple(accumulate(n for _day, n in rows)), months)

    def before(self, day: date) -> int:
        at = bisect_left(self.days, day)
        return self.running[at - 1] if at else 0


@dataclass(frozen=True)
class OwnedCards:
    """The cards of some owners: one ``Days`` per owner (days before the settled day) and the recent ones."""

    parts: tuple[Days, ...]

    def before(self, day: date) -> int:
        """Cards that were customers before ``day``."""
        return sum(part.before(day) for part in self.parts)

    def by_month(self) -> dict[int, int]:
        """Cards by the month of their "customer since" (``year * 12 + month - 1``)."""
        months: dict[int, int] = {}
        for part in self.parts:
            for key, n in part.months.items():
                months[key] = months.get(key, 0) + n
        return months


def owned_cards(owners: Iterable[int], *, using: str = "default") -> OwnedCards:
    """The cards of ``owners`` by "customer since" (see the module's docstring)."""
    owners = sorted(set(owners))
    cards = Customer.objects.using(using).filter(owner_id__in=owners).order_by()
    if not owners or connections[using].vendor != "postgresql":
        return OwnedCards((Days.of(cards.values_list("customer_since").annotate(n=Count("*"))),))
    settled = settled_day()
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT token::text FROM {EPOCH_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    token = row[0] if row else None
    keys = {owner: _key(using, owner, settled, token) for owner in owners} if token else {}
    found = cache.get_many(list(keys.values()))
    parts = {owner: found[key] for owner, key in keys.items() if key in found}
    missing = [owner for owner in owners if owner not in parts]
    if missing:
        fresh, fresh_token = _settled_counts(missing, settled, using)
        parts.update(fresh)
        if fresh_token is not None:
            cache.set_many({_key(using, owner, settled, fresh_token): fresh[owner] for owner in missing}, TIMEOUT)
    recent = cards.filter(customer_since__gte=settled).values_list("customer_since").annotate(n=Count("*"))
    return OwnedCards((*parts.values(), Days.of(recent)))


def _key(using: str, owner: int, settled: date, token: str | None) -> str:
    return f"customers.owned_since:{using}:{owner}:{settled.isoformat()}:{token}"


def _settled_counts(owners: list[int], settled: date, using: str) -> tuple[dict[int, Days], str | None]:
    """Each owner's cards before ``settled`` by day, and the epoch token, in one statement (one snapshot)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT token::text FROM {EPOCH_TABLE} WHERE id = 1), owner_id, customer_since, COUNT(*)"
            f" FROM {Customer._meta.db_table} WHERE owner_id = ANY(%s) AND customer_since < %s"
            " GROUP BY owner_id, customer_since",
            [owners, settled],
        )
        rows = cursor.fetchall()
    by_owner: dict[int, list[tuple[date, int]]] = {owner: [] for owner in owners}
    for _token, owner, since, n in rows:
        by_owner[owner].append((since, n))
    token = rows[0][0] if rows else None  # no rows, no token read in this snapshot: nothing cached
    return {owner: Days.of(days) for owner, days in by_owner.items()}, token
