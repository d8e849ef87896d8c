"""Improvement actions on the dashboard: marks on the monthly chart, and before/after rates.

For each action (followups.models.Improvement: a date and the reason categories it targets) whose
windows overlap the dashboard's period, the closure rate of its categories is compared in two equal
windows of ``WINDOW_DAYS`` days: the days just before its date, and its date and the days after.

    rate of the targeted categories in a window
        = cards closed (the chosen action) with a reason in those categories in the window
          ÷ cards active at any time in the window

The denominator is the headline churn rate's (analytics/churn.py: active at the window's start +
became customers in it + reinstated in it), read by the same functions, so the rate means what the
headline rate means, for the targeted categories only. The card filters (segment, owner, tag, city,
source, import batch) narrow both sides as they do for the headline rate; the filters that hide the
headline rate (category, reason, performed by, tenure: churn.BLOCKING) hide these too.

A window that reaches past today is not complete: its rate is what it has counted so far, and it is
labelled so. An action dated in the future is planned: it is listed, with no rates yet.

Cost: whatever the number of actions shown, one query reads them and the rates of all their windows
come from a constant number of queries: the cards before each window's days (customers/counts.py,
cached), the closures in force at each window's start (the closure tally and the partial months),
and the cards closed in the targeted categories (one tally aggregate and one closure-table
aggregate over the windows' partial months, or the population's closures when they are held in
memory: analytics/held.py). At most ``MAX_SHOWN`` actions are shown, newest first.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from closures import categories as reason_categories
from closures.models import Action, Closure
from crm import xlsx
from followups.models import Improvement

from . import churn, population, tallied
from .filters import ClosureFilter, Period
from .held import _between, for_churn
from .tallied import Split

WINDOW_DAYS = 90
MAX_SHOWN = 5
MAX_MARKS = 60  # marks drawn on the monthly chart at most
MAX_READ = 500  # actions read for a dashboard at most


@dataclass
class Window:
    """One window's rate: the targeted categories' closed cards over the headline's active cards."""

    period: Period
    counts: churn.Churn
    complete: bool
    days_so_far: int

    @property
    def closed(self) -> int:
        return self.counts.churned

    @property
    def active(self) -> int:
        return self.counts.population

    @property
    def rate(self) -> float | None:
        return self.counts.rate


@dataclass
class Compared:
    improvement: Improvement
    labels: list[str]
    planned: bool
    before: Window | None = None
    after: Window | None = None

    @property
    def change(self) -> float | None:
        """After less before, in percentage points."""
        if self.before is None or self.after is None or self.before.rate is None or self.after.rate is None:
            return None
        return (self.after.rate - self.before.rate) * 100

    @property
    def complete(self) -> bool:
        return bool(self.before and self.after and self.before.complete and self.after.complete)


@dataclass
class Panel:
    rows: list[Compared]
    action: str
    window_days: int = WINDOW_DAYS
    blocked_by: list[str] = field(default_factory=list)
    more: bool = False  # more actions overlap the period than are shown

    @property
    def action_label(self) -> str:
        return str(dict(Action.choices).get(self.action, self.action))


def windows(day: date, days: int = WINDOW_DAYS) -> tuple[Period, Period]:
    """The equal windows before an action's date and from it."""
    return Period(day - timedelta(days=days), day - timedelta(days=1)), Period(day, day + timedelta(days=days - 1))


def overlapping(fs: ClosureFilter, limit: int, days: int = WINDOW_DAYS, found: list | None = None) -> list:
    """Actions whose windows overlap the period, newest first (``limit`` + 1, to tell if there are more).
    ``found``: actions already read (newest first) that include them."""
    period = fs.dates
    latest = period.last + timedelta(days=days)
    earliest = period.first - timedelta(days=days - 1) if period.first is not None else None
    if found is None:
        rows = Improvement.objects.using(fs.queryset.db).filter(started_on__lte=latest)
        if earliest is not None:
            rows = rows.filter(started_on__gte=earliest)
        return list(rows.order_by("-started_on", "-pk")[: limit + 1])
    return [i for i in found if i.started_on <= latest and (earliest is None or i.started_on >= earliest)][: limit + 1]


def _month_end(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)


def compare(fs: ClosureFilter, *, limit: int = MAX_SHOWN, days: int = WINDOW_DAYS, found: list | None = None) -> Panel:
    """The panel for what ``fs`` selects: each action's windows, rates and counts."""
    data = fs.cleaned
    action = data.get("action") or Action.CLOSE
    found = overlapping(fs, limit, days, found)
    labels = reason_categories.labels(using=fs.queryset.db)
    today = fs.today
    rows = [
        Compared(
            improvement=item,
            labels=[str(labels.get(key, key)) for key in item.categories],
            planned=item.started_on > today,
        )
        for item in found[:limit]
    ]
    blocked = [str(fs.form.fields[name].label) for name in churn.BLOCKING if data.get(name) not in (None, "")]
    panel = Panel(rows=rows, action=action, window_days=days, blocked_by=blocked, more=len(found) > limit)
    measured = [row for row in rows if not row.planned and row.improvement.categories]
    if blocked or not measured:
        return panel
    wanted = [(row, *windows(row.improvement.started_on, days)) for row in measured]
    periods = list(dict.fromkeys(p for _row, before, after in wanted for p in (before, after)))
    active = _active(fs, periods)
    closed = _closed(fs, [(set(row.improvement.categories), p) for row, b, a in wanted for p in (b, a)], action)
    for i, (row, before, after) in enumerate(wanted):
        row.before = _window(before, active[before], closed[2 * i], today)
        row.after = _window(after, active[after], closed[2 * i + 1], today)
    return panel


def _window(period: Period, parts: tuple[int, int, int], closed: int, today: date) -> Window:
    at_start, new, back = parts
    counts = churn.Churn(period=period, churned=closed, active_at_start=at_start, new=new, reactivated=back)
    so_far = min(period.days, max((today - period.first).days + 1, 0))
    return Window(period=period, counts=counts, complete=period.last < today, days_so_far=so_far)


def _active(fs: ClosureFilter, periods: list[Period]) -> dict[Period, tuple[int, int, int]]:
    """The headline churn rate's denominator for each window, by churn.py's own functions:
    (active at its start, became customers in it, reinstated in it)."""
    db = fs.queryset.db
    people = fs.population(population.PARAMS)
    founded = churn._customers_before(periods, people, db)
    held = for_churn(fs)
    if held is not None:
        in_force = {p: held.in_force(p) for p in periods}
    else:
        in_force = churn._in_force(periods, people.closures, db, tally=tallied.population_tally(people, db))
    out = {}
    for p in periods:
        before = founded[p.first]
        forced, reactivated = in_force[p]
        out[p] = (before - forced, founded[p.last + timedelta(days=1)] - before, reactivated)
    return out


def _closed(fs: ClosureFilter, wanted: list[tuple[set, Period]], action: str) -> list[int]:
    """Cards closed (``action``) with a reason in each set of categories in each window, as the
    headline rate counts its numerator: once per card, reverted closures only when included."""
    kept = fs.include_reverted
    held = for_churn(fs)
    if held is not None:
        return [
            len(
                {
                    r.customer_id
                    for r in held.rows
                    if r.action == action
                    and r.category in categories
                    and (kept or r.reverted_at is None)
                    and _between(r.performed_at, p.start, p.end)
                }
            )
            for categories, p in wanted
        ]
    db = fs.queryset.db
    people = fs.population(population.PARAMS)
    population_tally = None if kept else tallied.population_tally(people, db)
    use_tally = population_tally is not None
    splits = [Split.of(p.start, p.end, tally=use_tally) for _c, p in wanted]
    counts = [0] * len(wanted)
    if use_tally and any(s.has_months for s in splits):
        sums = {
            f"w{i}": Sum("n", filter=split.months() & Q(category__in=sorted(categories)))
            for i, ((categories, _p), split) in enumerate(zip(wanted, splits, strict=True))
        }
        tally = population_tally.filter(action=action, reverted_month=0)
        row = tally.aggregate(**sums)
        counts = [n + (row[f"w{i}"] or 0) for i, n in enumerate(counts)]
    rows = Closure.objects.using(db).order_by().filter(action=action)
    if not kept:
        rows = rows.filter(reverted_at__isnull=True)
    if people.closures is not None:
        rows = rows.filter(people.closures)
    window = Q(pk__in=[])
    for split in splits:
        window |= split.moments()
    distinct = {"distinct": True} if kept or people.cards is not None else {}
    aggregates = {
        f"w{i}": Count("customer", filter=split.moments() & Q(category__in=sorted(categories)), **distinct)
        for i, ((categories, _p), split) in enumerate(zip(wanted, splits, strict=True))
    }
    row = rows.filter(window).aggregate(**aggregates)
    return [n + (row[f"w{i}"] or 0) for i, n in enumerate(counts)]


# --- marks on the monthly chart ------------------------------------------------------------------
@dataclass
class Mark:
    number: int
    improvement: Improvement
    labels: list[str]
    planned: bool


@dataclass
class Marks:
    items: list[Mark]
    wide: SafeString
    compact: SafeString


def marks(trend, fs: ClosureFilter, found: list | None = None) -> Marks | None:
    """A numbered, dashed line on the month of each action in the chart's months (one query); the
    same actions as a numbered list under the chart, for screen readers and for reading."""
    from .charts import COMPACT_PLOT_LEFT, COMPACT_TREND_WIDTH, PLOT_BOTTOM, PLOT_TOP

    columns = trend.columns
    if not columns:
        return None
    first, end = columns[0].first, _month_end(columns[-1].first)
    if found is None:
        found = Improvement.objects.using(fs.queryset.db).filter(started_on__gte=first, started_on__lte=end)
    found = sorted((i for i in found if first <= i.started_on <= end), key=lambda i: (i.started_on, i.pk))
    found = found[:MAX_MARKS]
    if not found:
        return None
    labels = reason_categories.labels(using=fs.queryset.db)
    index = {(c.first.year, c.first.month): i for i, c in enumerate(columns)}
    items, by_column = [], {}
    for n, item in enumerate(found, start=1):
        items.append(
            Mark(n, item, [str(labels.get(k, k)) for k in item.categories], planned=item.started_on > fs.today)
        )
        by_column.setdefault(index[(item.started_on.year, item.started_on.month)], []).append(n)
    step = (COMPACT_TREND_WIDTH - COMPACT_PLOT_LEFT - 4) / len(columns)
    wide, compact = [], []
    for i, numbers in by_column.items():
        text = escape(",".join(map(str, numbers)))
        for out, x in ((wide, columns[i].label_x), (compact, round(COMPACT_PLOT_LEFT + i * step + step / 2, 1))):
            out.append(
                f'<g class="improvement-mark"><line x1="{x}" x2="{x}" y1="{PLOT_TOP}" y2="{PLOT_BOTTOM}" '
                f'stroke="#101828" stroke-width="1.5" stroke-dasharray="4 3"></line>'
                f'<text x="{x}" y="{PLOT_TOP - 2}" text-anchor="middle" font-weight="bold">{text}</text></g>'
            )
    return Marks(items=items, wide=mark_safe("".join(wide)), compact=mark_safe("".join(compact)))  # noqa: S308


# --- the export's sheet --------------------------------------------------------------------------
SHEET = "Improvement actions"
EXPORT_LIMIT = 200
# (header in the exporter's language, machine name, width)
COLUMNS = [
    (_("Title"), "title", 30),
    (_("Date"), "started_on", 11),
    (_("Planned"), "planned", 8),
    (_("Reason categories"), "categories", 24),
    (_("Before: from"), "before_first", 11),
    (_("Before: to"), "before_last", 11),
    (_("Before: cards closed"), "before_closed", 10),
    (_("Before: cards active"), "before_active", 10),
    (_("Before: rate"), "before_rate", 9),
    (_("After: from"), "after_first", 11),
    (_("After: to"), "after_last", 11),
    (_("After: cards closed"), "after_closed", 10),
    (_("After: cards active"), "after_active", 10),
    (_("After: rate"), "after_rate", 9),
    (_("After window complete"), "after_complete", 10),
    (_("Change (percentage points)"), "change_points", 10),
]


def _window_cells(window: Window | None) -> tuple[list, list]:
    if window is None:
        return [None] * 5, [None] * 5
    return (
        [window.period.first, window.period.last, window.closed, window.active, window.rate],
        [None, None, None, None, xlsx.PERCENT2],
    )


def write_sheet(book, fs: ClosureFilter, *, machine: bool = False) -> None:
    """The actions whose windows overlap the period (up to EXPORT_LIMIT, newest first), with the
    figures of the dashboard's panel; with a filter that hides the rate, the reason instead of them."""
    panel = compare(fs, limit=EXPORT_LIMIT)
    sheet = book.add_sheet(SHEET, widths=[width for _h, _n, width in COLUMNS], freeze_header=True)
    sheet.append([name if machine else str(header) for header, name, _w in COLUMNS], style=xlsx.BOLD)
    yes, no = gettext("Yes"), gettext("No")
    for row in panel.rows:
        before, before_style = _window_cells(row.before)
        after, after_style = _window_cells(row.after)
        complete = None if row.after is None else (yes if row.after.complete else no)
        change = None if row.change is None else round(row.change, 4)
        item = row.improvement
        values = [item.title, item.started_on, yes if row.planned else no, ", ".join(row.labels)]
        sheet.append(
            [*values, *before, *after, complete, change], style=[None, None, None, None, *before_style, *after_style]
        )
    sheet.append([])
    if panel.blocked_by:
        why = gettext("Rates not shown when filtering by %(filters)s (they describe closures, not customers).")
        sheet.append([why % {"filters": ", ".join(panel.blocked_by)}])
    sheet.append(
        [
            gettext(
                "Closure rate of the targeted categories = cards closed (%(action)s) with a reason in them ÷ cards "
                "active at any time in the window, in the %(days)s days before the action's date and the %(days)s "
                "days from it."
            )
            % {"action": panel.action_label, "days": panel.window_days}
        ]
    )
    sheet.append([gettext("This is a comparison before and after, not proof that the action caused the change.")])
    sheet.close()
