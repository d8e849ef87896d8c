"""The per-closure summary of follow-ups and answers (followups.models.ClosureSummary) that the
dashboard's follow-up panels read instead of joining closures to follow-ups and answers.

    refresh(closure_ids, using=None)  recompute those closures' rows from the source rows
    rebuild(using=None)               recompute every row (`manage.py rebuild_followup_summary`)

and the activity tally (followups.models.ActivityTally: the summary's surveys and callbacks summed
by month and the dashboard's filters), which refresh keeps in step by adding the difference its
closures' rows made and rebuild recounts.

Both are set-based and correct by construction: the closures' rows are deleted and inserted again
by one INSERT ... SELECT over the closures, their follow-ups and their answers (the same SELECT for
one closure or for all), so whatever changed — a follow-up planned, sent, cancelled, done, an
answer, a reinstatement, an erasure — a refresh of the closure puts its row right.

Every write path calls ``refresh`` after its change, inside its own transaction: the planner
(planned, cancelled on reinstatement, erased), followups.answers.record_answer, the callback
operations, and the sender after recording a batch (``refresh`` takes any iterable of ids).
A category merge moves the rows' category (closures.signals.recategorised). Never in a closure's
own transaction: the planner reads the closure events after their commit.

Concurrent refreshes of one closure are serialised (``_lock``), so the later one computes its row
after the earlier one's commit. A closure's pending callbacks are classed against "now" when the
dashboard reads them (analytics/followups.py), not here: the row holds their count and first and
last due times.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections, router, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from closures.models import Closure
from closures.tally import month_of
from crm import tallies

from .models import ActivityTally, Answer, ClosureSummary, Followup, Kind

BATCH = 5_000
MAX_ROW_LOCKS = 500  # more closures than this in one refresh lock the summary table instead
LOCK_CLASS = 190_004  # the advisory lock space of the summary's closures (followups 0004)
State = Followup.State

# (summary column, SELECT expression), in the INSERT's column order.
COLUMNS = [
    "closure_id",
    "performed_at",
    "month",
    "action",
    "reason_id",
    "category",
    "segment",
    "owner_id",
    "performed_by_id",
    "reverted_at",
    "activity",
    "sent",
    "answered",
    "on_time",
    "late",
    "cancelled",
    "pending",
    "pending_first_due",
    "pending_last_due",
    "answers",
    "own_reason_id",
    "other_given",
    "csat",
    "nps",
    "winback_kind",
    "returned_after",
]


def _answer(closure_field: str):
    """The closure's first answer's ``closure_field`` (used when it has exactly one)."""
    return Subquery(Answer.objects.filter(closure=OuterRef("pk")).order_by("pk").values(closure_field)[:1])


def _select(closures):
    """The summary rows of ``closures`` (a Closure queryset) as a values() queryset in COLUMNS order."""
    f = "followups__"
    survey = Q(**{f + "kind": Kind.SURVEY, f + "sent_at__isnull": False})
    callback = Q(**{f + "kind": Kind.CALLBACK})
    undone = callback & Q(**{f + "done_at__isnull": True})
    pending = undone & Q(**{f + "state": State.PENDING})
    before_return = (
        Q(won_back=True)
        | Q(sent_at__isnull=False, sent_at__lte=OuterRef("reverted_at"))
        | Q(done_at__isnull=False, done_at__lte=OuterRef("reverted_at"))
    )
    last_kind = (
        Followup.objects.filter(closure=OuterRef("pk"))
        .filter(before_return)
        .order_by("-won_back", Coalesce("done_at", "sent_at").desc(nulls_last=True), "-pk")
        .values("kind")[:1]
    )
    n_answers = (
        Answer.objects.filter(closure=OuterRef("pk")).order_by().values("closure").annotate(n=Count("pk")).values("n")
    )
    other = Answer.objects.filter(closure=OuterRef("pk"), reason__isnull=True).exclude(other_reason="")
    exprs = {
        "s_closure_id": F("pk"),
        "s_performed_at": F("performed_at"),
        "s_month": month_of("performed_at"),
        "s_action": F("action"),
        "s_reason_id": F("reason_id"),
        "s_category": F("category"),
        "s_segment": F("segment"),
        "s_owner_id": F("owner_id"),
        "s_performed_by_id": F("performed_by_id"),
        "s_reverted_at": F("reverted_at"),
        "s_activity": Count("followups", filter=Q(**{f + "kind__in": [Kind.SURVEY, Kind.CALLBACK]})),
        "s_sent": Count("followups", filter=survey),
        "s_answered": Count("followups", filter=survey & Q(**{f + "answered_at__isnull": False})),
        "s_on_time": Count("followups", filter=callback & Q(followups__done_at__lte=F("followups__due_at"))),
        "s_late": Count("followups", filter=callback & Q(followups__done_at__gt=F("followups__due_at"))),
        "s_cancelled": Count("followups", filter=undone & Q(**{f + "state": State.CANCELLED})),
        "s_pending": Count("followups", filter=pending),
        "s_pending_first_due": Min(f + "due_at", filter=pending),
        "s_pending_last_due": Max(f + "due_at", filter=pending),
        "s_answers": Coalesce(Subquery(n_answers, output_field=IntegerField()), Value(0)),
        "s_own_reason_id": _answer("reason_id"),
        "s_other_given": Exists(other),
        "s_csat": _answer("csat"),
        "s_nps": _answer("nps"),
        "s_winback_kind": Subquery(last_kind),
        "s_returned_after": Case(
            When(Exists(last_kind), then=ExpressionWrapper(F("reverted_at") - F("performed_at"), DurationField())),
            default=None,
            output_field=DurationField(),
        ),
        "n_followups": Count("followups"),
    }
    return (
        closures.order_by()
        .annotate(**exprs)
        .filter(Q(n_followups__gt=0) | Q(s_answers__gt=0) | Q(s_reverted_at__isnull=False))
        .values(*[f"s_{name}" for name in COLUMNS])
    )


def _insert(select, using: str) -> None:
    sql, params = select.query.get_compiler(using).as_sql()
    table = ClosureSummary._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(COLUMNS)}) {sql}", params)


def _lock(ids: list[int] | None, using: str) -> None:
    """Serialise the refreshes of the same closures (PostgreSQL; SQLite writes one at a time).

    Two transactions that change different follow-ups of one closure must not both write a row
    computed before the other's change: each takes a transaction-level advisory lock per closure
    (in id order) before its INSERT ... SELECT, whose snapshot (READ COMMITTED: per statement) is
    then taken after the other has committed. Many closures at once, or all (``ids`` None), lock
    the table against other writers instead (readers go on)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not (ids is None or ids):
        return
    with connection.cursor() as cursor:
        if ids is None or len(ids) > MAX_ROW_LOCKS:
            cursor.execute(f"LOCK TABLE {ClosureSummary._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        else:
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(%s, (id %% 2147483647)::int)) FROM unnest(%s::bigint[]) AS id",
                [LOCK_CLASS, ids],
            )


def refresh(closure_ids: Iterable[int], *, using: str | None = None) -> None:
    """Recompute the summary rows of ``closure_ids`` (any iterable of closure ids) from the source
    rows, and add the difference they make to the activity tally."""
    using = using or router.db_for_write(ClosureSummary)
    ids = sorted({int(pk) for pk in closure_ids if pk is not None})
    with transaction.atomic(using=using):
        _lock(ids, using)
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            rows = ClosureSummary.objects.using(using).filter(closure_id__in=batch)
            before = list(tallied(rows).values_list(*TALLIED))
            rows.delete()
            _insert(_select(Closure.objects.using(using).filter(pk__in=batch)), using)
            _add_to_tally(before, list(tallied(rows).values_list(*TALLIED)), using)


def closures_of(customer_ids: Iterable[int], *, using: str | None = None) -> list[int]:
    """The ids of every closure of the cards ``customer_ids``."""
    using = using or router.db_for_write(ClosureSummary)
    return list(Closure.objects.using(using).filter(customer_id__in=list(customer_ids)).values_list("pk", flat=True))


def refresh_customers(customer_ids: Iterable[int], *, using: str | None = None) -> None:
    """Recompute the rows of every closure of the cards ``customer_ids``."""
    refresh(closures_of(customer_ids, using=using), using=using)


def rebuild(*, using: str | None = None, tally: bool = True) -> int:
    """Recompute every row, and the activity tally from them (``tally=False``: not the tally, for
    followups migration 0005, which runs before the tally's table exists); returns how many rows."""
    using = using or router.db_for_write(ClosureSummary)
    with transaction.atomic(using=using):
        _lock(None, using)
        ClosureSummary.objects.using(using).all().delete()
        _insert(_select(Closure.objects.using(using).all()), using)
        if tally:
            rebuild_tally(using=using)
        return ClosureSummary.objects.using(using).count()


def recategorise(old: str, new: str, *, using: str = "default", **kwargs) -> None:
    """A category merge moved closures from ``old`` to ``new`` (closures.signals.recategorised):
    their summary rows move, and both categories' tally rows are recounted from them (the summary
    table locked against refreshes meanwhile)."""
    with transaction.atomic(using=using):
        _lock(None, using)
        ClosureSummary.objects.using(using).filter(category=old).update(category=new)
        ActivityTally.objects.using(using).filter(category__in=[old, new]).delete()
        _insert_tally(ClosureSummary.objects.using(using).filter(category__in=[old, new]), using)


# --- the activity tally (followups.models.ActivityTally) ------------------------------------
TALLY_KEY = ("month", "owner_id", "reason_id", "action", "category", "segment", "reverted")
TALLY_SUMS = ("closures", "sent", "answered", "on_time", "late", "cancelled")
# tallied()'s columns, in the tally's column order (TALLY_KEY, TALLY_SUMS).
TALLIED = ("month", "t_owner", "reason_id", "action", "category", "segment", "t_reverted", "t_closures")
TALLIED += tuple(f"t_{name}" for name in TALLY_SUMS[1:])


def tallied(rows):
    """Summary rows (a ClosureSummary queryset) summed as the activity tally counts them."""
    return (
        rows.filter(activity__gt=0)
        .order_by()
        .annotate(
            t_owner=Coalesce("owner_id", Value(0)),
            t_reverted=Case(
                When(reverted_at__isnull=True, then=Value(False)), default=Value(True), output_field=BooleanField()
            ),
        )
        .values("month", "t_owner", "reason_id", "action", "category", "segment", "t_reverted")
        .annotate(t_closures=Count("*"), **{f"t_{name}": Sum(name) for name in TALLY_SUMS[1:]})
    )


def _insert_tally(rows, using: str) -> None:
    sql, params = tallied(rows).query.get_compiler(using).as_sql()
    columns = ", ".join((*TALLY_KEY, *TALLY_SUMS))
    with connections[using].cursor() as cursor:
        # Selected by name from a subquery: the order of a values() list with annotations is the ORM's.
        cursor.execute(
            f"INSERT INTO {ActivityTally._meta.db_table} ({columns}) SELECT {', '.join(TALLIED)} FROM ({sql}) AS t",
            params,
        )


def rebuild_tally(*, using: str | None = None) -> int:
    """Recount the activity tally from the summary (inside ``rebuild``; followups migration 0006)."""
    using = using or router.db_for_write(ActivityTally)
    with transaction.atomic(using=using):
        _lock(None, using)
        ActivityTally.objects.using(using).all().delete()
        _insert_tally(ClosureSummary.objects.using(using).all(), using)
        if connections[using].vendor == "postgresql":
            with connections[using].cursor() as cursor:
                cursor.execute(f"ANALYZE {ActivityTally._meta.db_table}")  # the planner's row estimates
        return ActivityTally.objects.using(using).count()


def _add_to_tally(before: list[tuple], after: list[tuple], using: str) -> None:
    """Add ``after`` less ``before`` (tallied() rows of the same closures) to the tally: deltas
    summed per key, written in key order (two refreshes touching the same tally rows lock them in
    the same order), each added to the committed row (``INSERT ... ON CONFLICT DO UPDATE``).

    A transaction refreshes once, after its changes (the planner gathers its closures for one
    call): a second refresh would take closure locks while holding tally rows, and a concurrent
    refresh holding one of those closures and wanting one of those rows would deadlock with it."""
    n = len(TALLY_KEY)
    deltas: dict[tuple, list[int]] = {}
    for sign, rows in ((-1, before), (1, after)):
        for row in rows:
            sums = deltas.setdefault(tuple(row[:n]), [0] * len(TALLY_SUMS))
            for i, value in enumerate(row[n:]):
                sums[i] += sign * (value or 0)
    tallies.add_to(ActivityTally, TALLY_KEY, TALLY_SUMS, deltas.items(), using=using)
