"""A filtered population's closures held in memory: every figure of a page counted from one read.

With a card filter that no tally counts by (tag, city, source, import batch), each figure would
read the closure table again for the same few thousand closures: a dozen queries of 15–20 ms
each for a tag's 6,500 closures at a million cards. Instead the population's closures are read
once, with the few columns the figures group by, and counted here: the same filters, periods and
rules as the SQL (analytics/filters.py, tallied.py, churn.py), in Python.

``Held.of(fs)`` returns None when there is no such filter, or when the population holds more than
``LIMIT`` closures (a city matching a quarter of the cards): those keep the SQL path.
"""

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Sum

from closures.models import Closure
from closures.tally import band_of, month_key

from . import population
from .filters import TENURE_BANDS, ClosureFilter

LIMIT = 60_000
FIELDS = (
    "customer_id",
    "action",
    "reason_id",
    "category",
    "segment",
    "owner_id",
    "tenure_days",
    "performed_by_id",
    "performed_at",
    "reverted_at",
    "customer_since",
)


@dataclass(frozen=True, slots=True)
class Row:
    customer_id: int
    action: str
    reason_id: int
    category: str
    segment: str
    owner_id: int | None
    tenure_days: int
    performed_by_id: int
    performed_at: datetime
    reverted_at: datetime | None
    customer_since: object

    @property
    def band(self) -> str:
        return band_of(self.tenure_days)

    @property
    def month(self) -> int:
        return month_key(self.performed_at)


@contextmanager
def _index_scan(db: str):
    """On PostgreSQL, read the population's closures through the closures' customer index.

    PostgreSQL estimates one closure per card of ``customer_id = ANY(...)`` (a batch of 7,000
    cards has 1,800) and so prefers a parallel scan of the whole closure table: 59 ms, against
    21 ms for the bitmap index scan at a million cards. Switched off for this one statement only.
    """
    if connections[db].vendor != "postgresql":
        yield
        return
    with connections[db].cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            yield
        finally:
            cursor.execute("RESET enable_seqscan")


def _too_many(people, db: str) -> bool:
    """Whether the closures of some owners' cards are more than ``LIMIT``: counted from the owner
    tally, or (no tallies: tests) from the closures' owner index. Other populations are read first."""
    if people.owners is None:
        return False
    from .tallied import population_tally  # (tallied counts through this module)

    tally = population_tally(people, db)
    if tally is None:
        return Closure.objects.using(db).filter(people.of_cards()).values("pk")[LIMIT : LIMIT + 1].exists()
    return (tally.aggregate(n=Sum("n"))["n"] or 0) > LIMIT


def _between(moment, start, end) -> bool:
    return moment is not None and (start is None or moment >= start) and moment < end


class Held:
    def __init__(self, fs: ClosureFilter, rows: list[Row]):
        self.fs = fs
        self.rows = rows
        data = fs.cleaned
        self.tenure = next(((low, high) for key, _l, low, high in TENURE_BANDS if key == data.get("tenure")), None)

    @classmethod
    def of(cls, fs: ClosureFilter) -> "Held | None":
        cache = fs.__dict__
        if "_held" not in cache:
            cache["_held"] = cls._read(fs)
        return cache["_held"]

    @classmethod
    def _read(cls, fs: ClosureFilter) -> "Held | None":
        closures = fs.population().of_cards()  # the card-only filters
        if closures is None:
            return None
        db = fs.queryset.db
        query = Closure.objects.using(db).filter(closures).order_by().values_list(*FIELDS)
        if _too_many(fs.population(), db):
            return None  # a team's closures: the figures read the owner tallies instead
        with _index_scan(db):
            rows = list(query[: LIMIT + 1])
        if len(rows) > LIMIT:
            return None
        return cls(fs, [Row(*row) for row in rows])

    # --- the filters ---------------------------------------------------------------------------------
    def matches(self, row: Row) -> bool:
        """Every filter but the period and the reverted rule (ClosureFilter.slice_qs)."""
        data = self.fs.cleaned
        reason, owner, by = data.get("reason"), data.get("owner"), data.get("by")
        if self.tenure and not (
            row.tenure_days >= self.tenure[0] and (self.tenure[1] is None or row.tenure_days < self.tenure[1])
        ):
            return False
        return (
            (not data.get("action") or row.action == data["action"])
            and (not data.get("category") or row.category == data["category"])
            and (reason is None or row.reason_id == reason.pk)
            and (not data.get("segment") or row.segment == data["segment"])
            and (owner is None or row.owner_id == owner.pk)
            and (by is None or row.performed_by_id == by.pk)
        )

    def sliced(self) -> list[Row]:
        if "_sliced" not in self.__dict__:
            self._sliced = [row for row in self.rows if self.matches(row)]
        return self._sliced

    def selected(self, start=None, end=None) -> list[Row]:
        """ClosureFilter.qs: the slice, in the period (or [start, end)), reverted ones only if included."""
        if end is None:
            if "_selected" not in self.__dict__:
                dates = self.fs.dates
                self._selected = self.selected(dates.start, dates.end)
            return self._selected
        kept = self.fs.include_reverted
        return [
            r
            for r in self.sliced()
            if (start is None or r.performed_at >= start) and r.performed_at < end and (kept or r.reverted_at is None)
        ]

    # --- what figures.py and churn.py ask ------------------------------------------------------------
    def counted(self, columns: tuple[str, ...]) -> list[dict]:
        """Like tallied.counted: the selected closures counted by ``columns``."""
        people = self._people(columns)
        getters = [self._getter(column, people) for column in columns]
        counts = Counter(tuple(get(row) for get in getters) for row in self.selected())
        return [dict(zip(columns, key, strict=True), n=n) for key, n in counts.items()]

    def _people(self, columns) -> dict:
        if not any(c.startswith("performed_by__") for c in columns):
            return {}
        ids = {row.performed_by_id for row in self.rows}
        fields = ("pk", "username", "first_name", "last_name")
        users = get_user_model().objects.using(self.fs.queryset.db).filter(pk__in=ids).values_list(*fields)
        return {pk: {"username": u, "first_name": f, "last_name": la} for pk, u, f, la in users}

    @staticmethod
    def _getter(column: str, people: dict):
        if column.startswith("performed_by__"):
            name = column.removeprefix("performed_by__")
            return lambda row: people.get(row.performed_by_id, {}).get(name, "")
        return attrgetter(column)

    def closure_counts(self, period, previous, action: str) -> dict:
        """Like figures._closure_counts."""
        kept = self.fs.include_reverted
        closes = [r for r in self.sliced() if r.action == action and (kept or r.reverted_at is None)]
        start, end = period.start, period.end  # properties: computed once, not per row
        out = {
            "closed_cards": len({r.customer_id for r in closes if _between(r.performed_at, start, end)}),
            "reinstated": sum(1 for r in self.sliced() if _between(r.reverted_at, start, end)),
        }
        if previous is not None:
            start, end = previous.start, previous.end
            out["previous_total"] = len(self.selected(start, end))
            out["previous_closed_cards"] = len({r.customer_id for r in closes if _between(r.performed_at, start, end)})
        return out

    def in_force(self, period) -> tuple[int, int]:
        """Like churn._in_force for one period: closures in force at its start, and of them those
        reverted within it (every closure of the population, whatever the other filters)."""
        start, end = period.start, period.end
        forced = [r for r in self.rows if r.performed_at < start and (r.reverted_at is None or r.reverted_at >= start)]
        return len(forced), sum(1 for r in forced if r.reverted_at is not None and r.reverted_at < end)

    def churned(self, period, action: str) -> int:
        """Like churn._churned: cards closed (``action``) in the period."""
        kept, start, end = self.fs.include_reverted, period.start, period.end
        return len(
            {
                r.customer_id
                for r in self.rows
                if r.action == action and (kept or r.reverted_at is None) and _between(r.performed_at, start, end)
            }
        )


def for_churn(fs: ClosureFilter) -> "Held | None":
    """The held closures when the churn rate's population is the held one (no segment or owner:
    those narrow the churn rate by the card's current values, which the held rows do not carry)."""
    data = fs.cleaned
    if any(data.get(name) not in (None, "") for name in set(population.PARAMS) - set(population.CARD_ONLY)):
        return None
    return Held.of(fs)
