"""How many cards had become customers before a day, without recounting the past on every dashboard.

The churn rate's population and the cohorts start at each card's ``customer_since`` (客户起始日期:
the creation date unless an import or an edit says otherwise). For the last twelve months the
count of cards that were customers before the period's first day is an index-only count over about
650,000 entries at a million cards (55 ms), the largest database cost of the dashboard. Yet for a
day safely in the past that number almost never changes:

- a new card becomes a customer today (``customer_since`` defaults to the local date), so an
  ordinary new card lies after every settled day;
- the app never deletes a card (erasure blanks its personal data and keeps the row).

Only an insert with an old ``customer_since`` (a migration's import, seeds, tests, the
benchmark), a delete, a change of ``customer_since`` or a TRUNCATE can change it, and on
PostgreSQL each of those replaces the random token in ``customers_cardepoch`` (triggers of
migrations 0007 and 0012; an insert bumps only when one of its cards is a customer since more
than ``BUMP_DAYS`` before the database's current date, so ordinary creates never touch the epoch
row or wait on its lock). A count is cached under (database alias, day, token): one tiny query
reads the token, and the count runs again only after the token changed.

A day that is not settled (less than ``SETTLED_DAYS`` ago) is counted as the cached count up to
the last settled day plus an index range count over the few days after it, so the churn rate
never scans the whole index for "cards that are customers by today".

Why the pieces are as they are:

- The token is random, not a counter: a value computed inside a transaction that changed the
  token and then rolled back is stored under a token no committed state will ever carry again.
  A counter would come back to the same number after the rollback and serve the wrong count.
- On a miss the count and the token are read in one statement (one snapshot), so the stored
  value is exactly the count the token stands for, even if a change commits meanwhile.
- Settled days lie more than ``BUMP_DAYS`` + 1 days before today in any time zone: the trigger
  compares with the database's ``current_date``, which is at most a day away from the local date,
  so an insert that does not bump can never hold a card before a settled day.
- SQLite (development and the fast tests) has no triggers here: it keeps the plain count.
- Values expire after ``TIMEOUT`` only so that entries under tokens that will never return
  leave a cache without an eviction policy; a recount a week costs nothing.
"""

from collections.abc import Sequence
from datetime import date, timedelta

from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Q
from django.utils import timezone

from .models import Customer, local_today

BUMP_DAYS = 3  # the insert trigger bumps for a card that is a customer since before current_date - 3
SETTLED_DAYS = BUMP_DAYS + 2
TIMEOUT = 7 * 24 * 3600
EPOCH_TABLE = "customers_cardepoch"


def settled_day() -> date:
    """The latest day whose "customers before it" count may be cached."""
    return timezone.localdate(timezone=timezone.get_default_timezone()) - timedelta(days=SETTLED_DAYS)


def since_before_each(days: Sequence[date], *, using: str = "default") -> list[int]:
    """The number of cards whose ``customer_since`` lies before each day, in the order given.

    On PostgreSQL: one token read when every settled day is cached, plus one counting query
    otherwise; a recent day is the last settled day's cached count plus a short index range.
    On SQLite: one counting query.
    """
    if not days:
        return []
    if connections[using].vendor != "postgresql":
        counts = _plain_counts(list(dict.fromkeys(days)), using)  # one query for every day
        return [counts[day] for day in days]
    settled = settled_day()
    wanted = sorted({min(day, settled) for day in days})
    token = _token(using)
    counts: dict[date, int] = {}
    keys: dict[date, str] = {}
    if token is not None:
        keys = {day: _key(using, day, token) for day in wanted}
        found = cache.get_many(list(keys.values()))
        counts = {day: found[key] for day, key in keys.items() if key in found}
    missing = [day for day in wanted if day not in counts]
    if missing:
        fresh, token = _count(missing, using=using, with_token=token is not None)
        counts.update(fresh)
        if token is not None:
            cache.set_many({_key(using, day, token): fresh[day] for day in missing}, TIMEOUT)
    recent = sorted({day for day in days if day > settled})
    extra = _recent_counts(settled, recent, using) if recent else {}
    return [counts[min(day, settled)] + extra.get(day, 0) for day in days]


def _key(using: str, day: date, token: str) -> str:
    return f"customers.since_before:{using}:{day.isoformat()}:{token}"


def _token(using: str) -> str | None:
    """The current epoch token, or None when the epoch row is missing (then nothing is cached)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT token::text FROM {EPOCH_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def _plain_counts(days: list[date], using: str) -> dict[date, int]:
    aggregates = {f"before_{i}": Count("id", filter=Q(customer_since__lt=day)) for i, day in enumerate(days)}
    row = Customer.objects.using(using).order_by().filter(customer_since__lt=max(days)).aggregate(**aggregates)
    return {day: row[f"before_{i}"] for i, day in enumerate(days)}


def _recent_counts(settled: date, days: list[date], using: str) -> dict[date, int]:
    """Cards that became customers on or after ``settled`` and before each day: a short index range."""
    aggregates = {f"before_{i}": Count("id", filter=Q(customer_since__lt=day)) for i, day in enumerate(days)}
    cards = Customer.objects.using(using).order_by()
    row = cards.filter(customer_since__gte=settled, customer_since__lt=max(days)).aggregate(**aggregates)
    return {day: row[f"before_{i}"] for i, day in enumerate(days)}


def _count(days: list[date], *, using: str, with_token: bool) -> tuple[dict[date, int], str | None]:
    """Count the cards that were customers before each day in one index-only aggregate; with
    ``with_token``, read the epoch token in the same statement, so in the same snapshot."""
    if not with_token:
        return _plain_counts(days, using), None
    counts = ", ".join(["COUNT(*) FILTER (WHERE customer_since < %s)"] * len(days))
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT token::text FROM {EPOCH_TABLE} WHERE id = 1), {counts}"
            f" FROM {Customer._meta.db_table} WHERE customer_since < %s",
            [*days, max(days)],
        )
        token, *row = cursor.fetchone()
    return dict(zip(days, row, strict=True)), token


# --- cards by the month of their "customer since" (the cohort table's sizes) ------------------------
def cards_by_since_month(*, using: str = "default") -> dict[int, int]:
    """The number of cards by the local month their ``customer_since`` falls in, as
    ``{year * 12 + month - 1: count}``, every card included (whatever its status).

    The months before the previous one (customer_since before ``settled_since()``) change only
    when a card with an old "customer since" is inserted, deleted or given another one: on
    PostgreSQL their counts (one index-only grouped count over every card) are cached under the
    epoch token, which those changes replace (the triggers of migrations 0007 and 0012: an insert
    with a since more than three days before the current date, any change of a since, a delete;
    ``settled_since()`` is always further back). The previous and the current month, where
    ordinary new cards land, are counted on every call, in the statement that reads the token:
    one query when the settled months are cached. SQLite counts everything in one query.
    """
    if connections[using].vendor != "postgresql":
        return _by_month(Customer.objects.using(using).values_list("customer_since").annotate(n=Count("*")))
    settled = settled_since()
    with connections[using].cursor() as cursor:
        # The token and the recent months in one snapshot; the epoch row is there even without cards.
        cursor.execute(
            f"SELECT epoch.token::text, recent.customer_since, recent.n FROM {EPOCH_TABLE} epoch"
            f" LEFT JOIN (SELECT customer_since, COUNT(*) AS n FROM {Customer._meta.db_table}"
            f" WHERE customer_since >= %s GROUP BY customer_since) recent ON true WHERE epoch.id = 1",
            [settled],
        )
        rows = cursor.fetchall()
    token = rows[0][0] if rows else None
    counts = cache.get(_since_key(using, settled, token)) if token else None
    if counts is None:
        counts, fresh_token = _since_counts_with_token(settled, using)
        if fresh_token is not None:
            cache.set(_since_key(using, settled, fresh_token), counts, TIMEOUT)
    recent = [(since, n) for _token_value, since, n in rows if since is not None]
    if not rows:  # no epoch row (deleted by hand): nothing is cached, the recent months counted apart
        recent = Customer.objects.using(using).filter(customer_since__gte=settled).values_list("customer_since")
        recent = recent.order_by().annotate(n=Count("*"))
    merged = dict(counts)
    for month, n in _by_month(recent).items():
        merged[month] = merged.get(month, 0) + n
    return merged


def settled_since() -> date:
    """The first day of the previous local month: counts of earlier months may be cached."""
    today = local_today()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _since_key(using: str, settled: date, token: str) -> str:
    return f"customers.since_months:{using}:{settled.isoformat()}:{token}"


def _by_month(rows) -> dict[int, int]:
    """(customer_since, count) rows folded into months."""
    counts: dict[int, int] = {}
    for since, n in rows:
        month = since.year * 12 + since.month - 1
        counts[month] = counts.get(month, 0) + n
    return counts


def _since_counts_with_token(settled: date, using: str) -> tuple[dict[int, int], str | None]:
    """The settled months' counts and the epoch token, in one statement (one snapshot); grouped by
    day, which PostgreSQL reads in index order without sorting, and folded into months here."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT token::text FROM {EPOCH_TABLE} WHERE id = 1), customer_since, COUNT(*)"
            f" FROM {Customer._meta.db_table} WHERE customer_since < %s GROUP BY customer_since",
            [settled],
        )
        rows = cursor.fetchall()
    counts = _by_month((since, n) for _token_value, since, n in rows)
    # No rows, no token read in this snapshot: nothing is cached (an empty count costs nothing).
    return counts, (rows[0][0] if rows else None)
