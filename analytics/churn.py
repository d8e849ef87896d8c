"""The churn rate: of the cards that were customers at any time in a period, the share that left.

    churn rate = cards closed in the period ÷ cards active at any time in the period

    cards active at any time in the period
        = cards active at its start                      (customers before its first day,
                                                          less the cards with a closure in force then)
        + cards that became customers during it          (``customer_since`` in the period)
        + cards reinstated during it that were inactive at its start

Every card closed in the period was active just before it was closed, so it is in the
denominator: the rate can never exceed 100 %. The old rate divided by the cards active at the
start only, so a migration (every card created in the period, closures recorded the same year)
read 102 %. A card's population starts at its ``customer_since`` (客户起始日期), not at the day its
card was created here, so migrated customers and historical closures are counted where they
belong.

"Closed" means the chosen action (close card by default: voiding and archiving are not churn
unless the action filter picks them), not reverted unless "include reverted" is ticked, counted
once per card.

Filters: a filter that describes the card (segment, owner, tag, city, source, import batch:
analytics/population.py) narrows both sides. A filter that describes a closure (reason,
category, performed by, tenure at closing) cannot narrow the cards a closure might have come
from, so the rate is not shown with them, and the page says why.

Cost: without a card filter the denominator reads the cached count of customers before each day
(customers/counts.py) and the closures in force from the closure tally; with one it counts the
filtered cards and their closures (one aggregate each); reinstatements come from the partial
``reverted_at`` index. No figure scans the customers table.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from closures.models import Action, Closure
from customers.counts import since_before_each

from . import population, tallied
from .filters import ClosureFilter, Period
from .held import for_churn
from .tallied import Split, sum_rows, union

# Closure filters the rate cannot honour on both sides (the action filter chooses what counts as churn).
BLOCKING = ("category", "reason", "by", "tenure")


@dataclass
class Churn:
    """One period's churn: the numerator and the three parts of the denominator."""

    period: Period
    churned: int
    active_at_start: int
    new: int
    reactivated: int

    @property
    def population(self) -> int:
        return self.active_at_start + self.new + self.reactivated

    @property
    def rate(self) -> float | None:
        return self.churned / self.population if self.population else None


@dataclass
class ChurnFigures:
    action: str
    current: Churn | None
    comparison: Churn | None
    blocked_by: list[str] = field(default_factory=list)  # the filters that hide the rate, by label

    @property
    def action_label(self) -> str:
        return str(dict(Action.choices).get(self.action, self.action))

    @property
    def change(self) -> float | None:
        """Change of the rate against the comparison period, in percentage points."""
        if self.current is None or self.comparison is None:
            return None
        if self.current.rate is None or self.comparison.rate is None:
            return None
        return (self.current.rate - self.comparison.rate) * 100


def compute(fs: ClosureFilter, *, tally_counts=None) -> ChurnFigures:
    """The churn rate of ``fs``'s period and of its comparison period.

    ``tally_counts`` maps a period to the cards closed in it as figures.py already counted them
    from the tallies (used only when no card filter is set); otherwise they are counted here.
    """
    data = fs.cleaned
    action = data.get("action") or Action.CLOSE
    blocked = [str(fs.form.fields[name].label) for name in BLOCKING if data.get(name) not in (None, "")]
    if blocked:
        return ChurnFigures(action=action, current=None, comparison=None, blocked_by=blocked)
    periods = [p for p in (fs.dates, fs.comparison) if p is not None]
    db = fs.queryset.db
    people = fs.population(population.PARAMS)
    cards = people.cards
    founded = _customers_before(periods, people, db)
    held = for_churn(fs)
    closures = None if held is not None else people.closures  # read only for the SQL path
    if held is not None:
        in_force = {p: held.in_force(p) for p in periods if p.start is not None}
    else:
        in_force = _in_force(periods, closures, db, tally=tallied.population_tally(people, db))
    # The figures' own counts of the period's closures are the population's when it is every card
    # or the viewer's data scope alone (both select closures by the card's owner now).
    counted = cards is None or set(people.data) == {"scope"}
    results = []
    for period in periods:
        first_day = period.first
        end_day = period.last + timedelta(days=1)
        before = founded[first_day] if first_day else 0
        forced, reactivated = in_force.get(period, (0, 0))
        churned = (tally_counts or {}).get(period) if counted else None
        if churned is None:
            churned = held.churned(period, action) if held is not None else _churned(fs, period, action, closures)
        results.append(
            Churn(
                period=period,
                churned=churned,
                active_at_start=before - forced,
                new=founded[end_day] - before,
                reactivated=reactivated,
            )
        )
    return ChurnFigures(action=action, current=results[0], comparison=results[1] if len(results) > 1 else None)


def _customers_before(periods: list[Period], people: population.Population, db: str) -> dict[date, int]:
    """Cards that were customers before each period's first day and before the day after its last:
    every card from the cached counts, a filtered population from its own "customer since" list."""
    days = sorted({d for p in periods for d in (p.first, p.last + timedelta(days=1)) if d is not None})
    if people.cards is None:
        return dict(zip(days, since_before_each(days, using=db), strict=True))
    return {day: people.customers_before(day) for day in days}


def _in_force(periods: list[Period], closures: Q | None, db: str, *, tally=None) -> dict[Period, tuple[int, int]]:
    """For each period with a start: (closures in force at its start, those of them reverted
    within it). A card has at most one closure in force at any moment (it must be reinstated
    before it can be closed again), so both are numbers of cards.

    In force at a moment = performed before it less reverted before it. The months wholly before
    the start come from ``tally`` (``tallied.population_tally``: every closure of the population
    counted by month; the main tally for every card) when there is one; the rest from the closure table.
    Those reverted within the period are counted apart, from the reinstatements' own index alone
    (``closure_reverted_at`` holds performed_at): in one query with the rest they made PostgreSQL
    read 16,000 closure rows at a million cards.
    """
    with_start = [p for p in periods if p.start is not None]
    if not with_start:
        return {}
    rows = Closure.objects.using(db).order_by()
    if closures is not None:
        rows = rows.filter(closures)
    if tally is None and closures is None and tallied.TALLIES:  # every card: the main tally
        tally = tallied.TALLIES[0][0].objects.using(db).order_by()
    use_tally = tally is not None
    splits = {p: Split.of(None, p.start, tally=use_tally) for p in with_start}
    window = Q(pk__in=[])
    aggregates = {}
    tally_aggregates = {}
    for i, (_p, split) in enumerate(splits.items()):
        window |= split.moments() | split.moments("reverted_at")
        performed, reverted = split.moments(), split.moments("reverted_at")
        aggregates[f"forced{i}"] = Count("id", filter=performed) - Count("id", filter=reverted)
        tally_aggregates[f"forced{i}"] = Coalesce(Sum("n", filter=split.months()), 0) - Coalesce(
            Sum("n", filter=split.months("reverted_month")), 0
        )
    tally_part = None
    if use_tally:
        tally_part = tally.values("action").annotate(**tally_aggregates)
    raw_part = rows.filter(window).values("action").annotate(**aggregates)
    summed = sum_rows(union(tally_part, raw_part), list(aggregates))
    back_window, backs = Q(pk__in=[]), {}
    for i, p in enumerate(splits):
        back_window |= Q(reverted_at__gte=p.start, reverted_at__lt=p.end)
        reinstated = Q(performed_at__lt=p.start, reverted_at__gte=p.start, reverted_at__lt=p.end)
        backs[f"back{i}"] = Count("reverted_at", filter=reinstated)
    back = rows.filter(back_window).aggregate(**backs)
    return {p: (summed[f"forced{i}"], back[f"back{i}"]) for i, p in enumerate(splits)}


def _churned(fs: ClosureFilter, period: Period, action: str, closures: Q | None) -> int:
    """Cards closed (``action``) in the period, among the filtered cards, from the closure table."""
    rows = Closure.objects.using(fs.queryset.db).order_by().filter(action=action, performed_at__lt=period.end)
    if period.start is not None:
        rows = rows.filter(performed_at__gte=period.start)
    if not fs.include_reverted:
        rows = rows.filter(reverted_at__isnull=True)
    if closures is not None:
        rows = rows.filter(closures)
    return rows.aggregate(n=Count("customer", distinct=True))["n"]
