"""The cohort table: customers by the month (or quarter) they started, and the share of each
cohort closed within 3, 6, 12 and 24 months (a retention triangle).

Definitions (the dashboard states them too):

- A **cohort** is the cards whose "customer since" falls in the month or quarter, whatever their
  status now (active, closed, archived, erased: a customer who left still started then), except
  cards whose closure in force is a void: a voided card was an invalid record (a duplicate, a
  test), never a customer.
- A card was **closed within N months** when its closure in force is a "close card" (not
  reverted) performed on a local date before its customer-since date plus N whole months (31
  January + 1 month = 28 or 29 February). A card closed, reinstated and closed again counts at its
  last closing. Archived and erased-while-active cards are not closed.
- **Share** = cards closed within N months / cohort size. A cell is shown only when every card of
  the cohort has been a customer for N months (the cohort's last day + N months <= today);
  otherwise it is blank ("not yet"): the cohort is too young to say.
- **Which cohorts**: the whole months (quarters) the dashboard's period touches, by customer
  since (not by closing date); at most ``limit``, the latest ones; shares as of today.
- **Filters**: the population filters (segment, owner, tag, city, source, import batch;
  analytics/population.py) narrow the cohort and its closures alike. The filters that describe a
  closure (action, reason, category, performed by, tenure, include reverted) do not apply: the
  table always counts the closures in force of the "close card" action.

Where the numbers come from, in three small queries whatever the size:

- without a population filter, cohort sizes from ``customers.counts.cards_by_since_month`` (on
  PostgreSQL a cached grouped count, recounted only after the card epoch token changed, plus the
  two most recent months) and closures from the cohort tally (closures/tally.py), which also gives
  the voids to take out of the sizes;
- with the segment alone, sizes from a grouped count over the (segment, customer_since) index and
  closures from the cohort tally's segment column;
- with the cards of some owners alone (a data scope, the owner filter), sizes as the churn rate
  counts them (one grouped count over the (owner, customer_since) index) and closures from the
  cohort owner tally;
- with any other population filter, both from the raw tables in one query (the filtered cards,
  restricted to the cohorts the period touches, each with its closure in force looked up through
  the one-open-closure-per-card index): a filtered population is a fraction of the cards.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from closures import tally
from closures.models import Action, Closure, CohortOwnerTally, CohortTally
from customers.counts import cards_by_since_month
from customers.models import Customer

from . import population
from .held import for_churn

GRAINS = ("month", "quarter")
HORIZONS = (3, 6, 12, 24)  # months; the largest is at most closures.tally.COHORT_MONTHS
DEFAULT_LIMIT = 24
COUNTED = (Action.CLOSE, Action.VOID)


@dataclass
class Cell:
    """Cards of a cohort closed within ``months`` months; ``closed`` and ``share`` are None while
    the cohort is too young to say."""

    months: int
    closed: int | None
    share: float | None

    @property
    def ready(self) -> bool:
        return self.closed is not None


@dataclass
class Cohort:
    first: date  # the cohort's first and last day
    last: date
    size: int
    cells: list[Cell]
    grain: str = "month"

    @property
    def label(self) -> str:
        if self.grain == "quarter":
            return f"{self.first.year} Q{(self.first.month - 1) // 3 + 1}"
        return f"{self.first:%Y-%m}"


@dataclass
class CohortTable:
    grain: str
    today: date
    rows: list[Cohort] = field(default_factory=list)
    horizons: tuple[int, ...] = HORIZONS
    filtered: bool = False  # a population filter: read from the raw tables
    earlier: int = 0  # cohorts of the period left out by the limit (the oldest)


def grain_of(value) -> str:
    """A ``grain`` URL parameter as a known grain (anything else is the month)."""
    return value if value in GRAINS else GRAINS[0]


def _month_first(key: int) -> date:
    return date(key // 12, key % 12 + 1, 1)


def _month_last(key: int) -> date:
    first = _month_first(key)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _bounds(fs, grain: str) -> tuple[int | None, int]:
    """The first and last month keys of the cohorts the period touches, widened to whole quarters."""
    period = fs.dates
    first = tally.cohort_of(period.first) if period.first else None
    last = tally.cohort_of(min(period.last, fs.today))
    if grain == "quarter":
        first = None if first is None else first - first % 3
        last = last - last % 3 + 2
    return first, last


def _counts(fs, first: int | None, last: int) -> tuple[dict[int, int], dict[tuple, int], bool]:
    """Cards by since month, and closures in force by (since month, months to close, action)."""
    data = fs.cleaned
    db = fs.queryset.db
    cards_q = population.card_q(data, using=db)
    people = fs.population(population.PARAMS)
    if people.owners is not None:
        return (*_owned(people, db, first, last), True)
    if {name for name in population.PARAMS if data.get(name) not in (None, "")} - {"segment"}:
        return (*_joined(fs, cards_q, first, last), True)
    tallied = CohortTally.objects.using(db).order_by().filter(cohort__lte=last, action__in=COUNTED)
    if first is not None:
        tallied = tallied.filter(cohort__gte=first)
    if cards_q is None:
        sizes = {m: n for m, n in cards_by_since_month(using=db).items() if (first is None or m >= first) and m <= last}
    else:
        # The segment alone: the cards through the (segment, customer_since) index, and the tally's
        # segment, which is the card's own while a closure is in force (a closed card is not edited).
        tallied = tallied.filter(segment=data["segment"])
        cards = Customer.objects.using(db).filter(cards_q, **_since_range("customer_since", first, last))
        sizes = _by_month(cards.order_by().values_list("customer_since").annotate(n=Count("*")))
    closures = {(c, m, a): n for c, m, a, n in tallied.values_list("cohort", "months", "action").annotate(n=Sum("n"))}
    return sizes, closures, cards_q is not None


def _owned(people, db: str, first: int | None, last: int) -> tuple[dict[int, int], dict[tuple, int]]:
    """Both sides for the cards of some owners (a data scope, the owner filter): the cards counted
    by "customer since" as the churn rate counts them (analytics/population.py), and the closures
    in force from the cohort owner tally (the card's owner now, which a closure in force keeps)."""
    sizes = {m: n for m, n in people.since_by_month().items() if (first is None or m >= first) and m <= last}
    rows = (
        CohortOwnerTally.objects.using(db)
        .order_by()
        .filter(owner_key__in=people.owners, cohort__lte=last, action__in=COUNTED)
    )
    if first is not None:
        rows = rows.filter(cohort__gte=first)
    summed = rows.values_list("cohort", "months", "action").annotate(n=Sum("n"))
    return sizes, {(c, m, a): n for c, m, a, n in summed}


def _since_range(column: str, first: int | None, last: int) -> dict:
    found = {f"{column}__lte": _month_last(last)}
    if first is not None:
        found[f"{column}__gte"] = _month_first(first)
    return found


def _by_month(rows) -> dict[int, int]:
    counts: dict[int, int] = {}
    for since, n in rows:
        counts[tally.cohort_of(since)] = counts.get(tally.cohort_of(since), 0) + n
    return counts


def _joined(fs, cards_q, first: int | None, last: int) -> tuple[dict[int, int], dict[tuple, int]]:
    """Both sides for a filtered population: the filtered cards counted by "customer since" (one
    grouped count), and the population's closures in force (close or void) grouped by their
    "customer since" snapshot (the card's own: a closed card is not edited), action and local
    closing date; whole months are counted in Python, as closures.tally does.

    The closures are those the page already holds in memory (analytics/held.py), or else the
    filter set's population's closures (on PostgreSQL by id), so the cost follows the population,
    never the closure table.
    """
    db = fs.queryset.db
    people = fs.population(population.PARAMS)
    low, high = _since_range("customer_since", first, last).get("customer_since__gte"), _month_last(last)
    sizes = {m: n for m, n in people.since_by_month().items() if (first is None or m >= first) and m <= last}
    held = for_churn(fs)
    if held is not None:  # the population's closures, already read for the page's other figures
        zone = timezone.get_default_timezone()
        in_force = [
            (r.customer_since, r.action, timezone.localtime(r.performed_at, zone).date(), 1)
            for r in held.rows
            if r.reverted_at is None
            and r.action in COUNTED
            and (low is None or r.customer_since >= low)
            and r.customer_since <= high
        ]
    else:
        in_force = (
            Closure.objects.using(db)
            .filter(people.closures, reverted_at__isnull=True, action__in=COUNTED)
            .filter(**_since_range("customer_since", first, last))
            .order_by()
            .annotate(day=TruncDate("performed_at", tzinfo=timezone.get_default_timezone()))
            .values_list("customer_since", "action", "day")
            .annotate(n=Count("*"))
        )
    closures: dict[tuple, int] = {}
    for since, action, day, n in in_force:
        key = (tally.cohort_of(since), tally.months_between(since, day), action)
        closures[key] = closures.get(key, 0) + n
    return sizes, closures


def cohort_table(fs, *, grain: str = "month", limit: int = DEFAULT_LIMIT) -> CohortTable:
    """The cohort table of what the filter set ``fs`` selects (see the module's docstring)."""
    grain = grain_of(grain)
    first, last = _bounds(fs, grain)
    sizes, closures, filtered = _counts(fs, first, last)
    group = (lambda m: m // 3) if grain == "quarter" else (lambda m: m)  # noqa: E731
    cards: dict[int, int] = {}
    closed: dict[int, list[int]] = {}  # cohort -> closes by months to close (0..COHORT_MONTHS)
    for month, n in sizes.items():
        cards[group(month)] = cards.get(group(month), 0) + n
    for (month, months, action), n in closures.items():
        key = group(month)
        if action == Action.VOID:
            cards[key] = cards.get(key, 0) - n
        else:
            closed.setdefault(key, [0] * (tally.COHORT_MONTHS + 1))[months] += n
    keys = sorted(key for key, n in cards.items() if n > 0)
    table = CohortTable(grain=grain, today=fs.today, filtered=filtered, earlier=max(0, len(keys) - limit))
    for key in keys[-limit:] if limit else []:
        first_month, last_month = (key * 3, key * 3 + 2) if grain == "quarter" else (key, key)
        cohort_last = _month_last(last_month)
        size = cards[key]
        by_months = closed.get(key, [0] * (tally.COHORT_MONTHS + 1))
        cells = []
        for months in HORIZONS:
            if tally.add_months(cohort_last, months) > fs.today:
                cells.append(Cell(months=months, closed=None, share=None))
                continue
            count = sum(by_months[:months])
            cells.append(Cell(months=months, closed=count, share=count / size))
        table.rows.append(
            Cohort(first=_month_first(first_month), last=cohort_last, size=size, cells=cells, grain=grain)
        )
    return table
