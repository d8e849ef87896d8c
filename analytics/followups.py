"""What the dashboard learns after the closure: survey response, callback completion, the stated
reason against the customer's own, satisfaction (CSAT, NPS) and win-back.

Every figure follows the dashboard's filters (analytics/filters.py): the closures ``fs.qs``
selects (period, comparison aside, reverted closures excluded unless included, and every other
filter) and what their follow-ups and answers say. Win-back is the exception that the word
implies: it reads the closures *reinstated* in the period (as the "Reinstated" figure does), with
every filter but the period and the reverted rule (``fs.slice_qs()``).

They read the per-closure summary (followups.models.ClosureSummary, kept up by every write path:
followups/summary.py) and the activity tally summed from it (followups.models.ActivityTally), never
the closures joined to their follow-ups and answers; the dashboard's filters apply to them as
``summaries(fs)`` and ``tallies(fs)`` (analytics/followup_summary.py) say. Three queries, each
summed in SQL to the rows the page shows (plus three small label look-ups):

1. ``activity`` (analytics/followup_activity.py): surveys sent and answered; callbacks done on
   time, late, not done, not yet due, summed by local month, by owner and by stated reason: the
   period's whole months from the activity tally, the days either side and the pending callbacks
   (classed against "now" when read) from the summary, the few closures whose pending callbacks
   straddle now corrected from their follow-ups; about 60 rows back.
2. ``answers``: counted by (stated reason, category, the customer's reason, "other" given): the
   matrix, the agreement rate, CSAT and NPS; closures with one answer from the summary alone (an
   index-only scan of summary_one_answer), the few with several from their answers, in the same
   query.
3. ``winback``: the closures reinstated in the period with the kind of the last follow-up sent or
   done before the return (kept in the summary): counts and median days by reason, by kind and in
   all (on PostgreSQL ``percentile_cont`` over grouping sets, a dozen rows back).

Measured at a million cards (250,000 closures, 190,000 summary rows, 34,500 tally rows) on two
cores with a load of 6 to 7 (EXPLAIN ANALYZE, best of five): activity 22 ms for the last 12 months
(the same query over the summary alone, grouped by month, owner and reason and rolled up in
Python: 63 ms, plus 5,000 rows to roll up) and 38 ms for all time; answers 25 and 35 ms; win-back
12 and 17 ms. The whole of ``compute`` in the same spell: 100 and 140 ms (before: 290 and 315).

Definitions (what the page says too):

- a survey is *sent* when it has ``sent_at``; *answered* when it also has ``answered_at``;
- a callback is *on time* when its outcome was recorded (``done_at``) by ``due_at``, *late* when
  after; *not done* when cancelled, or still pending past its due time; pending and not yet due
  callbacks are *upcoming* and left out of the completion rate;
- the agreement rate = answers whose reason is the stated reason ÷ answers naming a reason from the
  list ("other" and "no reason given" are shown but not in the rate);
- CSAT: mean of 1–5, and the share answering 4 or 5; NPS = % promoters (9–10) − % detractors (0–6);
- a closure is won back after a follow-up when it was reverted after at least one of its
  follow-ups was sent or done, or when a callback recorded it as won back; its kind is that of
  the last such follow-up (a won-back callback first).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date

from django.db import connections
from django.db.models import BooleanField, Case, Count, F, Q, Sum, Value, When
from django.utils.formats import date_format
from django.utils.translation import gettext

from followups.models import Kind

from . import charts
from .filters import ClosureFilter
from .followup_activity import DIMENSIONS, activity_rows
from .followup_labels import NONE, OTHER, OWN_PARAM, Labels
from .followup_summary import summaries

DAY_SECONDS = 86_400
ANSWER_COUNTS = ("n_answers", "csat_n", "csat_sum", "satisfied", "nps_n", "promoters", "detractors")


@dataclass
class Activity:
    """Surveys and callbacks of one group of closures (a month, an owner or a reason)."""

    key: object
    label: str
    note: str = ""
    sent: int = 0
    answered: int = 0
    on_time: int = 0
    late: int = 0
    not_done: int = 0
    upcoming: int = 0

    def add(self, row: dict) -> None:
        self.sent += row["sent"] or 0
        self.answered += row["answered"] or 0
        self.on_time += row["on_time"] or 0
        self.late += row["late"] or 0
        self.not_done += row["not_done"] or 0
        self.upcoming += row["upcoming"] or 0

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.sent if self.sent else None

    @property
    def due(self) -> int:
        """Callbacks that were due: the completion rate's denominator."""
        return self.on_time + self.late + self.not_done

    @property
    def completion(self) -> float | None:
        return (self.on_time + self.late) / self.due if self.due else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def has_callbacks(self) -> bool:
        return bool(self.due or self.upcoming)


@dataclass
class Satisfaction:
    """CSAT and NPS of one group of answers (a stated reason or a category)."""

    key: object
    label: str
    note: str = ""
    retired: bool = False
    answers: int = 0
    csat_n: int = 0
    csat_sum: int = 0
    satisfied: int = 0
    nps_n: int = 0
    promoters: int = 0
    detractors: int = 0

    def add(self, row: dict) -> None:
        self.answers += row["n_answers"]
        for name in ("csat_n", "csat_sum", "satisfied", "nps_n", "promoters", "detractors"):
            setattr(self, name, getattr(self, name) + (row[name] or 0))

    @property
    def csat(self) -> float | None:
        return self.csat_sum / self.csat_n if self.csat_n else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.csat_n if self.csat_n else None

    @property
    def nps(self) -> float | None:
        """Promoters less detractors, in points (-100..100)."""
        return (self.promoters - self.detractors) * 100 / self.nps_n if self.nps_n else None

    @property
    def passives(self) -> int:
        return self.nps_n - self.promoters - self.detractors


@dataclass
class Cell:
    count: int
    url: str
    agrees: bool = False


@dataclass
class MatrixRow:
    reason_id: int
    label: str
    retired: bool
    cells: list[Cell]
    total: int
    with_reason: int
    agreeing: int

    @property
    def agreement(self) -> float | None:
        return self.agreeing / self.with_reason if self.with_reason else None


@dataclass
class Column:
    key: str  # a reason id, "other" or "none"
    label: str
    retired: bool = False


@dataclass
class Matrix:
    columns: list[Column]
    rows: list[MatrixRow]

    @property
    def answers(self) -> int:
        return sum(r.total for r in self.rows)

    @property
    def with_reason(self) -> int:
        return sum(r.with_reason for r in self.rows)

    @property
    def agreeing(self) -> int:
        return sum(r.agreeing for r in self.rows)

    @property
    def agreement(self) -> float | None:
        return self.agreeing / self.with_reason if self.with_reason else None


@dataclass
class Return:
    """Reinstatements after a follow-up of one group (a stated reason or a follow-up kind)."""

    key: object
    label: str
    count: int = 0
    median_days: float | None = None  # from closure to return
    retired: bool = False


@dataclass
class Winback:
    reinstated: int  # every reinstatement in the period (with the filters)
    by_reason: list[Return]
    by_kind: list[Return]
    overall: Return

    @property
    def after_followup(self) -> int:
        return self.overall.count

    @property
    def share(self) -> float | None:
        return self.after_followup / self.reinstated if self.reinstated else None

    @property
    def tables(self) -> list[dict]:
        return [
            {"key": "reason", "heading": gettext("Reason"), "rows": self.by_reason},
            {"key": "kind", "heading": gettext("Last follow-up before the return"), "rows": self.by_kind},
        ]


@dataclass
class FollowupFigures:
    by_month: list[Activity]
    by_owner: list[Activity]
    by_reason: list[Activity]
    activity_total: Activity
    matrix: Matrix
    satisfaction_by_reason: list[Satisfaction]
    satisfaction_by_category: list[Satisfaction]
    satisfaction_total: Satisfaction
    winback: Winback
    labels: Labels | None = None

    @property
    def has_answers(self) -> bool:
        return self.matrix.answers > 0


# --- 1. surveys and callbacks: analytics/followup_activity.py ------------------------------
def _rolled(rows, key, make) -> dict:
    out: dict = {}
    for row in rows:
        k = key(row)
        if k not in out:
            out[k] = make(k)
        out[k].add(row)
    return out


def month_label(key: int) -> str:
    return date_format(date(key // 12, key % 12 + 1, 1), "YEAR_MONTH_FORMAT")


# --- 2. and 3. answers ----------------------------------------------------------------------
def _scores(prefix: str = "") -> dict:
    """The counts of one group of answers (``prefix``: the path from the rows to the answer)."""
    csat, nps = prefix + "csat", prefix + "nps"
    return {
        "n_answers": Count("*"),
        "csat_n": Count(csat),
        "csat_sum": Sum(csat),
        "satisfied": Count(csat, filter=Q(**{csat + "__gte": 4})),
        "nps_n": Count(nps),
        "promoters": Count(nps, filter=Q(**{nps + "__gte": 9})),
        "detractors": Count(nps, filter=Q(**{nps + "__lte": 6})),
    }


def answer_rows(fs: ClosureFilter) -> list[dict]:
    """Answers to ``fs``'s closures by (stated reason, category, customer's reason, "other" given):
    one query, the closures with one answer from their summary alone (index summary_one_answer),
    those with several (a few per cent) from their answers."""
    one = (
        summaries(fs)
        .filter(answers=1)
        .order_by()
        .values("reason_id", "category", "own_reason_id", "other_given")
        .annotate(**_scores())
        .values_list("reason_id", "category", "own_reason_id", "other_given", *ANSWER_COUNTS)
    )
    a = "closure__answers__"
    given_other = Case(
        When(Q(**{a + "reason__isnull": True}) & ~Q(**{a + "other_reason": ""}), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    several = (
        summaries(fs)
        .filter(answers__gt=1)
        .order_by()
        .annotate(own=F(a + "reason_id"), given=given_other)
        .values("reason_id", "category", "own", "given")
        .annotate(**_scores(a))
        .values_list("reason_id", "category", "own", "given", *ANSWER_COUNTS)
    )
    names = ("reason_id", "category", "own", "other", *ANSWER_COUNTS)
    return [dict(zip(names, row, strict=True)) for row in one.union(several, all=True)]


def own_key(row: dict) -> str:
    if row["own"] is not None:
        return str(row["own"])
    return OTHER if row["other"] else NONE


def _matrix(rows: list[dict], labels: Labels, fs: ClosureFilter, list_url) -> Matrix:
    counts: dict[tuple[int, str], int] = {}
    for row in rows:
        k = (row["reason_id"], own_key(row))
        counts[k] = counts.get(k, 0) + row["n_answers"]
    stated = sorted({r for r, _o in counts}, key=lambda pk: labels.reason(pk))
    own_ids = sorted({int(o) for _r, o in counts if o not in (OTHER, NONE)}, key=lambda pk: labels.reason(pk))
    columns = [Column(key=str(pk), label=labels.reason(pk), retired=labels.retired(pk)) for pk in own_ids]
    columns += [Column(key=OTHER, label=gettext("Other")), Column(key=NONE, label=gettext("No reason given"))]
    matrix_rows = []
    for pk in stated:
        cells = []
        for c in columns:
            n = counts.get((pk, c.key), 0)  # (a link for the cells that count something: the page links no 0)
            url = list_url(fs, reason=pk, **{OWN_PARAM: c.key}) if n else ""
            cells.append(Cell(count=n, url=url, agrees=c.key == str(pk)))
        with_reason = sum(n for (r, o), n in counts.items() if r == pk and o not in (OTHER, NONE))
        matrix_rows.append(
            MatrixRow(
                reason_id=pk,
                label=labels.reason(pk),
                retired=labels.retired(pk),
                cells=cells,
                total=sum(c.count for c in cells),
                with_reason=with_reason,
                agreeing=counts.get((pk, str(pk)), 0),
            )
        )
    return Matrix(columns=columns, rows=matrix_rows)


def _satisfaction(rows: list[dict], labels: Labels):
    by_reason = _rolled(
        rows,
        lambda r: r["reason_id"],
        lambda pk: Satisfaction(
            key=pk, label=labels.reason(pk), note=labels.reason_category(pk), retired=labels.retired(pk)
        ),
    )
    by_category = _rolled(rows, lambda r: r["category"], lambda k: Satisfaction(key=k, label=labels.category(k)))
    total = Satisfaction(key="", label=gettext("All answers"))
    for row in rows:
        total.add(row)
    order = lambda s: (-s.answers, s.label)  # noqa: E731
    return sorted(by_reason.values(), key=order), sorted(by_category.values(), key=order), total


# --- 4. win-back ----------------------------------------------------------------------------
def winback_rows(fs: ClosureFilter) -> tuple[int, list[tuple]]:
    """Closures reinstated in the period (every filter but the period and the reverted rule): how
    many, and for those after a follow-up (the summary keeps the kind of the last follow-up sent or
    done before the return) their number and median days from closure to return by stated reason
    ("reason"), by kind ("kind") and in all ("overall"), as (group, reason id, kind, count, median
    days) rows.

    On PostgreSQL one query returns only those groups (``percentile_cont`` over grouping sets: 16 ms
    for the 7,000 such closures of 12 months at a million cards, where reading every reinstatement
    and taking the medians in Python took 25 to 35); elsewhere the rows are read and counted here."""
    period = fs.dates
    rows = summaries(fs, period=False).filter(reverted_at__isnull=False, reverted_at__lt=period.end)
    if period.start is not None:
        rows = rows.filter(reverted_at__gte=period.start)
    rows = rows.order_by().values_list("reason_id", "winback_kind", "returned_after")
    if connections[rows.db].vendor == "postgresql":
        return _winback_groups(rows)
    return _winback_counted(list(rows))


def _winback_groups(rows) -> tuple[int, list[tuple]]:
    sql, params = rows.query.get_compiler(rows.db).as_sql()
    after = "FILTER (WHERE w.winback_kind IS NOT NULL)"
    query = f"""
        SELECT GROUPING(w.reason_id), GROUPING(w.winback_kind), w.reason_id, w.winback_kind,
            COUNT(*), COUNT(*) {after},
            percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM w.returned_after)) {after}
        FROM ({sql}) AS w GROUP BY GROUPING SETS ((w.reason_id), (w.winback_kind), ())"""
    with connections[rows.db].cursor() as cursor:
        cursor.execute(query, params)
        found = cursor.fetchall()
    reinstated, groups = 0, []
    for not_reason, not_kind, reason_id, kind, every, count, seconds in found:
        if not_reason and not_kind:
            reinstated = every
            groups.append(("overall", None, None, count, None if seconds is None else seconds / DAY_SECONDS))
        elif count and not not_reason:
            groups.append(("reason", reason_id, None, count, seconds / DAY_SECONDS))
        elif count:
            groups.append(("kind", None, kind, count, seconds / DAY_SECONDS))
    return reinstated, groups


def _winback_counted(rows: list[tuple]) -> tuple[int, list[tuple]]:
    days: dict[tuple, list[float]] = {}
    for reason_id, kind, returned_after in rows:
        if kind is not None:
            value = returned_after.total_seconds() / DAY_SECONDS
            for key in (("reason", reason_id, None), ("kind", None, kind), ("overall", None, None)):
                days.setdefault(key, []).append(value)
    groups = [(*key, len(values), statistics.median(values)) for key, values in days.items()]
    return len(rows), groups


def _winback(found: tuple[int, list[tuple]], labels: Labels) -> Winback:
    reinstated, groups = found
    kinds = dict(Kind.choices)
    by_reason, by_kind = [], []
    overall = Return(key="", label=gettext("All reinstatements after a follow-up"))
    for group, reason_id, kind, count, days in groups:
        if group == "reason":
            label, retired = labels.reason(reason_id), labels.retired(reason_id)
            by_reason.append(Return(key=reason_id, label=label, retired=retired, count=count, median_days=days))
        elif group == "kind":
            by_kind.append(Return(key=kind, label=str(kinds.get(kind, kind)), count=count, median_days=days))
        else:
            overall.count, overall.median_days = count, days
    order = lambda r: (-r.count, r.label)  # noqa: E731
    return Winback(
        reinstated=reinstated,
        by_reason=sorted(by_reason, key=order),
        by_kind=sorted(by_kind, key=order),
        overall=overall,
    )


# --- everything -----------------------------------------------------------------------------
def compute(fs: ClosureFilter, *, list_url=None) -> FollowupFigures:
    """All the follow-up figures for what ``fs`` selects."""
    list_url = list_url or charts.list_url
    db = fs.queryset.db
    labels = Labels(db)
    activity = activity_rows(fs)
    answers = answer_rows(fs)
    returns = winback_rows(fs)
    grouped: dict[str, list[dict]] = {name: [] for name in DIMENSIONS}
    for row in activity:
        grouped[row["dimension"]].append(row)
    reason_ids = {r["key"] for r in grouped["reason_id"]} | {r["reason_id"] for r in answers}
    reason_ids |= {r["own"] for r in answers} | {r[1] for r in returns[1] if r[0] == "reason"}
    labels.load_reasons(reason_ids)
    owners = labels.owners({r["key"] for r in grouped["owner_id"]})
    total = Activity(key="", label=gettext("All closures"))
    for row in grouped["month"]:
        total.add(row)
    months = _rolled(grouped["month"], lambda r: int(r["key"]), lambda k: Activity(key=k, label=month_label(k)))
    by_owner = _rolled(grouped["owner_id"], lambda r: r["key"], lambda k: Activity(key=k, label=owners.get(k, "")))
    by_reason = _rolled(
        grouped["reason_id"],
        lambda r: r["key"],
        lambda k: Activity(key=k, label=labels.reason(k), note=labels.reason_category(k)),
    )
    by_size = lambda a: (-(a.sent + a.due + a.upcoming), a.label)  # noqa: E731
    sat_reason, sat_category, sat_total = _satisfaction(answers, labels)
    return FollowupFigures(
        by_month=[months[k] for k in sorted(months)],
        by_owner=sorted(by_owner.values(), key=by_size),
        by_reason=sorted(by_reason.values(), key=by_size),
        activity_total=total,
        matrix=_matrix(answers, labels, fs, list_url),
        satisfaction_by_reason=sat_reason,
        satisfaction_by_category=sat_category,
        satisfaction_total=sat_total,
        winback=_winback(returns, labels),
        labels=labels,
    )
