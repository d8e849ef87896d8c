"""How many cards were created before a moment, without recounting the past on every dashboard.

The churn rate's denominator needs the cards created before the period's start: for the last
twelve months an index-only count over about 650,000 ``created_at`` entries (55 ms at a million
cards), the largest database cost of the dashboard. Yet for a moment safely in the past that
number almost never changes:

- the app stamps ``created_at`` with the time of the insert (``default=timezone.now``,
  ``editable=False``; imports leave it alone), so an ordinary new card lies after the moment;
- the app never deletes a card (erasure blanks its personal data and keeps the row).

Only a backdated insert (seeds, tests, the benchmark), a delete, a change of ``created_at`` or a
TRUNCATE can change it, and on PostgreSQL each of those replaces the random token in
``customers_cardepoch`` (triggers of migration 0007; an insert bumps only when one of its cards
is stamped over an hour before its transaction began, so ordinary creates and long imports never
touch the epoch row or wait on its lock). A count is cached under (database alias, moment,
token): one tiny query reads the token, and the count runs again only after the token changed.

Why the pieces are as they are:

- The token is random, not a counter: a value computed inside a transaction that changed the
  token and then rolled back is stored under a token no committed state will ever carry again.
  A counter would come back to the same number after the rollback and serve the wrong count.
- On a miss the count and the token are read in one statement (one snapshot), so the stored
  value is exactly the count the token stands for, even if a change commits meanwhile.
- Only moments at least ``SETTLED`` (two hours) old are cached. A card is stamped when it is
  inserted but counted by others only once its transaction commits; a transaction still open
  two hours after stamping a card could change a cached count without a bump (the insert
  trigger lets cards stamped within an hour of the transaction's start through). The margin
  also absorbs a modest clock skew between the app servers and the database.
- SQLite (development and the fast tests) has no triggers here, and recent or future moments
  change all the time: both keep the plain count.
- Values expire after ``TIMEOUT`` only so that entries under tokens that will never return
  leave a cache without an eviction policy; a recount a week costs nothing.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Q
from django.utils import timezone

from .models import Customer, local_today

SETTLED = timedelta(hours=2)
TIMEOUT = 7 * 24 * 3600
EPOCH_TABLE = "customers_cardepoch"


def created_before_each(moments: Sequence[datetime], *, using: str = "default") -> list[int]:
    """The number of cards whose ``created_at`` lies before each moment (cached when settled),
    in the order given, in one or two queries:
    on PostgreSQL one token read when every settled moment is cached, plus one counting query
    otherwise; on SQLite, or for moments too recent to cache, one counting query."""
    if not moments:
        return []
    counts: dict[datetime, int] = {}
    keys: dict[datetime, str] = {}
    if connections[using].vendor == "postgresql":
        settled = [m for m in moments if m <= timezone.now() - SETTLED]
        token = _token(using) if settled else None
        if token is not None:
            keys = {m: _key(using, m, token) for m in settled}
            found = cache.get_many(list(keys.values()))
            counts = {m: found[key] for m, key in keys.items() if key in found}
    missing = [m for m in dict.fromkeys(moments) if m not in counts]
    if missing:
        fresh, token = _count(missing, using=using, with_token=bool(keys))
        counts.update(fresh)
        if token is not None:
            cache.set_many({_key(using, m, token): fresh[m] for m in missing if m in keys}, TIMEOUT)
    return [counts[m] for m in moments]


def _key(using: str, moment: datetime, token: str) -> str:
    return f"customers.created_before:{using}:{moment.astimezone(UTC).isoformat()}:{token}"


def _token(using: str) -> str | None:
    """The current epoch token, or None when the epoch row is missing (then nothing is cached)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT token::text FROM {EPOCH_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def _count(moments: list[datetime], *, using: str, with_token: bool) -> tuple[dict[datetime, int], str | None]:
    """Count the cards created before each moment in one index-only aggregate; with
    ``with_token`` (PostgreSQL), read the epoch token in the same statement, so in the same
    snapshot as the counts."""
    if not with_token:
        aggregates = {f"before_{i}": Count("created_at", filter=Q(created_at__lt=m)) for i, m in enumerate(moments)}
        row = Customer.objects.using(using).order_by().filter(created_at__lt=max(moments)).aggregate(**aggregates)
        return {m: row[f"before_{i}"] for i, m in enumerate(moments)}, None
    counts = ", ".join(["COUNT(*) FILTER (WHERE created_at < %s)"] * len(moments))
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT token::text FROM {EPOCH_TABLE} WHERE id = 1), {counts}"
            f" FROM {Customer._meta.db_table} WHERE created_at < %s",
            [*moments, max(moments)],
        )
        token, *row = cursor.fetchone()
    return dict(zip(moments, row, strict=True)), token


# --- cards by the month of their "customer since" (the cohort table's sizes) ------------------------
def cards_by_since_month(*, using: str = "default") -> dict[int, int]:
    """The number of cards by the local month their ``customer_since`` falls in, as
    ``{year * 12 + month - 1: count}``, every card included (whatever its status).

    The months before the previous one (customer_since before ``settled_since()``) change only
    when a card with an old "customer since" is inserted, deleted or given another one: on
    PostgreSQL their counts (one index-only grouped count over every card) are cached under the
    epoch token, which those changes replace (migration 0007's triggers, extended for
    customer_since: a since more than 28 days before the current date counts as old, and
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
