"""The closure tallies: closures counted by local month and dimension, kept in step with the closure table.

The dashboard reads these instead of grouping 250,000+ closures on every request
(analytics/figures.py). Two tallies, because one with every dimension would have about as many
rows as a small closure table (adding the performer to the main key multiplies it by eight):

- ``ClosureTally``: (month, reverted month, action, reason, category, segment, tenure band);
- ``ClosureStaffTally``: (month, reverted month, action, reason, category, performed by).

And two for a data scope (crm/scopes.py: the cards of some owners), keyed by the card's owner now
(``Closure.card_owner``, 0 for none), so a Manager's team dashboard reads a few rows per owner and
month instead of half the closure table:

- ``ClosureOwnerTally``: (owner_key, month, reverted month, action, reason, category);
- ``ClosureOwnerBandTally``: (owner_key, month, reverted month, action, segment, tenure band);
- ``ClosureOwnerStaffTally``: (owner_key, month, reverted month, action, performed by).

A closure in force keeps its owner (a closed card is not edited); when a reinstated card changes
hands its reverted closures move to the new owner's rows (``moved``, from closures.writes.follow_owners).

And one for the cohort table (analytics/cohorts.py), which asks a different question (of the
customers who started in a month, how many left within N months?):

- ``CohortTally``: closures *in force* (not reverted) by (cohort, whole months to closing,
  action, segment). The cohort is the local month of the closure's ``customer_since`` snapshot,
  which is the card's own: a card's fields change only while it is active (customers.gate), so
  not while a closure is in force. A reinstatement takes the closure out (its cohort row counts
  down); closures without a snapshot (none after closures migration 0008) belong to no cohort.
- ``CohortOwnerTally``: the same by the card's owner (``card_owner``, 0 for none) instead of the
  segment, for a data scope's cohort table. A closure in force never changes owner, so only
  closing and reinstating move it.

Months are integer keys ``year * 12 + month - 1`` of the *local* month (settings.TIME_ZONE) in
which the closure was performed and reverted (0 = not reverted), so a key never holds NULL and
``INSERT ... ON CONFLICT`` always finds the row it adds to. Changing TIME_ZONE moves month
boundaries: run ``manage.py rebuild_closure_tally`` afterwards.

Writers:
- ``apply(new=..., reverted=...)`` from closures.writes.write_closures, the one place that
  writes closures, inside the operation's transaction. Erasure changes no counted dimension.
- ``moved(closures, owners)`` from closures.writes.follow_owners, when cards change hands.
- ``rebuild()`` recounts everything in one ``INSERT ... SELECT`` per tally: the data migrations,
  seed_scale's COPY load, and ``manage.py rebuild_closure_tally`` for recovery.
"""

import calendar
from collections import Counter
from datetime import date, datetime

from django.db import connections, router
from django.db.models import Case, CharField, Count, IntegerField, Value, When
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, TruncDate
from django.utils import timezone

from crm import tallies

from .models import (
    Closure,
    ClosureOwnerBandTally,
    ClosureOwnerStaffTally,
    ClosureOwnerTally,
    ClosureStaffTally,
    ClosureTally,
    CohortOwnerTally,
    CohortTally,
)

# (key, lowest tenure in days, first tenure in days no longer in the band); labels live in analytics.
TENURE_BANDS = [
    ("lt3m", 0, 90),
    ("3to12m", 90, 365),
    ("1to2y", 365, 730),
    ("2to3y", 730, 1095),
    ("gt3y", 1095, None),
]

# Rows per INSERT: 9 parameters each stays under SQLite's 32,766 bound parameters.


def band_of(tenure_days: int) -> str:
    """The tenure band key of a closure's tenure_days snapshot."""
    for key, low, high in TENURE_BANDS:
        if tenure_days >= low and (high is None or tenure_days < high):
            return key
    return TENURE_BANDS[0][0]


def tenure_band():
    """SQL CASE giving each closure's tenure band key from its tenure_days snapshot."""
    whens = [
        When(tenure_days__gte=low, tenure_days__lt=high, then=Value(key))
        for key, low, high in TENURE_BANDS
        if high is not None
    ]
    return Case(*whens, default=Value(TENURE_BANDS[-1][0]), output_field=CharField())


def month_key(moment: datetime | None) -> int:
    """The integer key of the local month of ``moment`` (0 for None)."""
    if moment is None:
        return 0
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return local.year * 12 + local.month - 1


def month_start(key: int) -> datetime:
    """The aware moment the local month ``key`` begins."""
    return timezone.make_aware(datetime(key // 12, key % 12 + 1, 1), timezone.get_default_timezone())


def month_of(field: str):
    """SQL for ``month_key`` of a datetime column (the same local month Python computes)."""
    tz = timezone.get_default_timezone()
    return Cast(ExtractYear(field, tzinfo=tz) * 12 + ExtractMonth(field, tzinfo=tz) - 1, IntegerField())


def reverted_month_of(field: str = "reverted_at"):
    return Case(When(**{f"{field}__isnull": True}, then=Value(0)), default=month_of(field), output_field=IntegerField())


# --- cohorts ---------------------------------------------------------------------------------------
# Whole months to closing are counted exactly up to this; closures later than that count here.
COHORT_MONTHS = 24


def cohort_of(since: date) -> int:
    """The cohort key of a "customer since" date: ``year * 12 + month - 1`` of its month."""
    return since.year * 12 + since.month - 1


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, kept in the target month (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def months_between(since: date, closed_on: date) -> int:
    """Whole months from ``since`` to ``closed_on``: the largest n with since + n months <= closed_on
    (0 for a closing before ``since``), capped at ``COHORT_MONTHS``. So a card closed on day d
    was closed "within N months" exactly when d < since + N months, i.e. when this is below N."""
    months = (closed_on.year - since.year) * 12 + closed_on.month - since.month
    if months > 0 and add_months(since, months) > closed_on:
        months -= 1
    return max(0, min(months, COHORT_MONTHS))


def cohort_key(closure: Closure) -> tuple:
    """The cohort tally key of a closure with a customer_since snapshot."""
    closed_on = timezone.localtime(closure.performed_at, timezone.get_default_timezone()).date()
    since = closure.customer_since
    return (cohort_of(since), months_between(since, closed_on), str(closure.action), str(closure.segment))


def cohort_owner_key(closure: Closure) -> tuple:
    """The cohort owner tally key of a closure with a customer_since snapshot."""
    cohort, months, action, _segment = cohort_key(closure)
    return (closure.card_owner_id or 0, cohort, months, action)


# --- keeping the tallies in step ------------------------------------------------------------------
COHORT_KEY = ("cohort", "months", "action", "segment")
COHORT_OWNER_KEY = ("owner_key", "cohort", "months", "action")
MAIN_KEY = ("month", "reverted_month", "action", "reason_id", "category", "segment", "band")
STAFF_KEY = ("month", "reverted_month", "action", "reason_id", "category", "performed_by_id")
OWNER_KEY = ("owner_key", "month", "reverted_month", "action", "reason_id", "category")
OWNER_BAND_KEY = ("owner_key", "month", "reverted_month", "action", "segment", "band")
OWNER_STAFF_KEY = ("owner_key", "month", "reverted_month", "action", "performed_by_id")
# Each tally's key, in the order _keys gives them.
TALLY_KEYS = {
    "main": (ClosureTally, MAIN_KEY),
    "staff": (ClosureStaffTally, STAFF_KEY),
    "owner": (ClosureOwnerTally, OWNER_KEY),
    "owner_band": (ClosureOwnerBandTally, OWNER_BAND_KEY),
    "owner_staff": (ClosureOwnerStaffTally, OWNER_STAFF_KEY),
}


def _keys(closure: Closure, reverted_month: int, owner: int | None = None) -> tuple[tuple, ...]:
    """The closure's key in each tally (TALLY_KEYS' order); ``owner``: its card's owner if not ``card_owner``."""
    month = month_key(closure.performed_at)
    action, band = str(closure.action), band_of(closure.tenure_days)
    common = (month, reverted_month, action, closure.reason_id, str(closure.category))
    owner = (closure.card_owner_id if owner is None else owner) or 0
    return (
        common + (str(closure.segment), band),
        common + (closure.performed_by_id,),
        (owner, *common),
        (owner, month, reverted_month, action, str(closure.segment), band),
        (owner, month, reverted_month, action, closure.performed_by_id),
    )


def apply(*, new=(), reverted=(), using: str = "default") -> None:
    """Count ``new`` closures and move ``reverted`` ones (already marked) from "not reverted" to
    their reverted month, in the caller's transaction.

    Deltas are summed per key first (one statement may not touch a row twice) and written in key
    order, so two transactions writing the same rows lock them in the same order and cannot
    deadlock; a concurrent writer of the same row waits for the first one to commit and then adds
    its own delta to the committed count.
    """
    counters, cohorts, cohort_owners = [Counter() for _ in TALLY_KEYS], Counter(), Counter()
    for closure in new:
        for counter, key in zip(counters, _keys(closure, month_key(closure.reverted_at)), strict=True):
            counter[key] += 1
        if closure.reverted_at is None and closure.customer_since is not None:
            cohorts[cohort_key(closure)] += 1
            cohort_owners[cohort_owner_key(closure)] += 1
    for closure in reverted:
        for counter, key in zip(counters, _keys(closure, 0), strict=True):
            counter[key] -= 1
        for counter, key in zip(counters, _keys(closure, month_key(closure.reverted_at)), strict=True):
            counter[key] += 1
        if closure.customer_since is not None:
            cohorts[cohort_key(closure)] -= 1  # no longer in force
            cohort_owners[cohort_owner_key(closure)] -= 1
    _write(counters, using)
    _upsert(CohortTally, COHORT_KEY, cohorts, using)
    _upsert(CohortOwnerTally, COHORT_OWNER_KEY, cohort_owners, using)


def moved(closures, owners: dict[int, int | None], *, using: str = "default") -> None:
    """``closures`` (with their ``card_owner`` before the move) go from their owner's rows to the
    new owner of their card (``owners``: {card id: owner id or None}), in the caller's transaction."""
    counters = [Counter() for _ in TALLY_KEYS]
    for closure in closures:
        reverted_month = month_key(closure.reverted_at)
        for counter, key in zip(counters, _keys(closure, reverted_month), strict=True):
            counter[key] -= 1
        for counter, key in zip(
            counters, _keys(closure, reverted_month, owners[closure.customer_id] or 0), strict=True
        ):
            counter[key] += 1
    _write(counters, using)


def _write(counters: list[Counter], using: str) -> None:
    for counter, (model, key_columns) in zip(counters, TALLY_KEYS.values(), strict=True):
        _upsert(model, key_columns, Counter({key: n for key, n in counter.items() if n}), using)


def _upsert(model, key_columns: tuple[str, ...], deltas: Counter, using: str) -> None:
    tallies.add_to(model, key_columns, ("n",), ((key, (n,)) for key, n in deltas.items()), using=using)


# --- recounting ------------------------------------------------------------------------------------
def counted(closures, names=tuple(TALLY_KEYS)):
    """The tallies' rows recounted from a closure queryset: {"main": qs, "staff": qs, ...} (the
    tallies ``names``) of dicts with the key columns and ``n`` (also what the tests compare the
    tallies with)."""
    annotated = closures.order_by().annotate(month=month_of("performed_at"), reverted_month=reverted_month_of())
    extra = {  # only what each key needs: an unselected annotation could join its GROUP BY
        "main": {"band": tenure_band},
        "owner": {"owner_key": lambda: Coalesce("card_owner_id", 0)},
        "owner_band": {"band": tenure_band, "owner_key": lambda: Coalesce("card_owner_id", 0)},
        "owner_staff": {"owner_key": lambda: Coalesce("card_owner_id", 0)},
    }
    return {
        name: annotated.annotate(**{column: make() for column, make in extra.get(name, {}).items()})
        .values(*TALLY_KEYS[name][1])
        .annotate(n=Count("id"))
        for name in names
    }


def rebuild(*, using: str | None = None, closure_model=Closure, tally_models=None) -> dict[str, int]:
    """Recount the tallies from the closure table (one DELETE and one INSERT ... SELECT each; the
    cohort tally as ``rebuild_cohorts`` does).

    For the data migrations (pass the historical models, ``{name: model}``: then only those are rebuilt),
    seed_scale's load and recovery. Run it in a transaction. On PostgreSQL the closure table is
    locked in SHARE mode first, so closures written meanwhile wait for the rebuild to commit
    instead of being lost between the DELETE and the INSERT (reads go on). Returns the rows
    written per tally.
    """
    with_cohorts = tally_models is None
    models = tally_models or {name: model for name, (model, _key) in TALLY_KEYS.items()}
    using = using or router.db_for_write(ClosureTally)
    recount = counted(closure_model.objects.using(using), tuple(models))
    written = {}
    with connections[using].cursor() as cursor:
        if connections[using].vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {closure_model._meta.db_table} IN SHARE MODE")
        for name, model in models.items():
            key_columns = TALLY_KEYS[name][1]
            inner, params = recount[name].query.sql_with_params()
            columns = ", ".join(key_columns)
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
            # Selecting by name from a subquery keeps the column order independent of how the ORM
            # orders a values() list with annotations.
            cursor.execute(
                f"INSERT INTO {model._meta.db_table} ({columns}, n) SELECT {columns}, n FROM ({inner}) counted",
                params,
            )
            written[name] = cursor.rowcount
            if connections[using].vendor == "postgresql":
                cursor.execute(f"ANALYZE {model._meta.db_table}")  # the planner's row estimates
    if with_cohorts:
        written["cohorts"] = rebuild_cohorts(using=using, closure_model=closure_model)
        written["cohort_owners"] = rebuild_cohorts(using=using, tally_model=CohortOwnerTally, by="owner")
    return written


def counted_cohorts(closures, *, by: str = "segment") -> Counter:
    """The cohort tally's rows recounted from a closure queryset: {key: n} (zero rows left out);
    ``by="owner"``: the cohort owner tally's (COHORT_OWNER_KEY).

    The database groups the closures in force by (customer since, local closing date, action,
    segment or owner); whole months between the two dates are counted here, by the same function as
    ``apply``, so a recount cannot disagree with the counting kept in step on calendar details.
    """
    column = "segment" if by == "segment" else "card_owner_id"
    rows = (
        closures.filter(reverted_at__isnull=True, customer_since__isnull=False)
        .order_by()
        .annotate(closed_on=TruncDate("performed_at", tzinfo=timezone.get_default_timezone()))
        .values_list("customer_since", "closed_on", "action", column)
        .annotate(n=Count("id"))
    )
    counts = Counter()
    for since, closed_on, action, value, n in rows.iterator(chunk_size=5000):
        cohort, months = cohort_of(since), months_between(since, closed_on)
        counts[(cohort, months, action, value) if by == "segment" else (value or 0, cohort, months, action)] += n
    return counts


def rebuild_cohorts(
    *, using: str | None = None, closure_model=Closure, tally_model=CohortTally, by: str = "segment"
) -> int:
    """Recount a cohort tally (a DELETE and batched inserts of ``counted_cohorts``); for
    ``rebuild``, and closures migrations 0009 and 0019 with the historical models. Returns the rows written."""
    using = using or router.db_for_write(tally_model)
    counts = counted_cohorts(closure_model.objects.using(using), by=by)
    with connections[using].cursor() as cursor:
        cursor.execute(f"DELETE FROM {tally_model._meta.db_table}")
    _upsert(tally_model, COHORT_KEY if by == "segment" else COHORT_OWNER_KEY, counts, using)
    if connections[using].vendor == "postgresql":
        with connections[using].cursor() as cursor:
            cursor.execute(f"ANALYZE {tally_model._meta.db_table}")
    return sum(1 for n in counts.values() if n)
