"""Churn after service, kept ahead of the request (analytics/service_churn.py reads it).

The figures count *customers*, once per group however many tickets they had, so they cannot be
summed from per-ticket rows. But a period that runs to today (every preset does) holds a
customer's ticket in a group exactly when the customer's *last* ticket in that group lies in it.
So this keeps, per card and group, the local day of its last ticket and of its last ticket that
its card's closure followed within 90 days (``ChurnLast``), and the same counted by day
(``ChurnDay``): "customers with a complaint ticket in the last 12 months" is then the sum of a
year of day rows, and likewise those of them whose card was closed within 90 days.

    refresh(customer_ids)   # after a write that can change these cards' rows, in its transaction
    rebuild()               # recount everything from the tickets (rebuild_service_summary)
    recount(customer_ids)   # what the rows of these cards should be, for the tests

A card's rows change when one of its tickets is opened, imported, moved to another card, changes
status into or out of resolved/closed, misses an SLA target, is reopened or changes category; when
its tickets' ``closed_within_90`` flags change (closures written or reverted: closures/ticket_flags.py);
when its closures change (the ``spans`` below); and when its ``customer_since`` changes
(customers/since.py tells). Each of those writes calls ``refresh`` for its cards: the cards' rows
are recounted from their tickets (a few rows each, the ticket (customer, created_at) index) and the
day rows move by the difference (crm/tallies.py: key order, ``ON CONFLICT`` additions).

On PostgreSQL ``refresh`` first takes a transaction-level advisory lock per card, in id order:
two transactions refreshing the one card would otherwise both read its old rows and move the day
counts twice. Like the follow-up summary, a transaction should refresh once, after its changes.

The group "customers without a ticket" (customers at the period's start, less the cards with a
closure in force then, less those who had a ticket in it) needs, of the customers with a ticket
in the period, those who were not customers yet at its start and those whose card had a closure
in force at its start. The ``all`` row carries the card's ``customer_since`` for the first; for
the second, ``ChurnSpan`` holds the card's closures performed on a day before its last ticket (a
card closed before the period and with a ticket in it must have one): a few thousand rows at a
million cards. And of those closed within 90 days of the start, the ones with a ticket in the
period: the ``all`` row carries when the card's closure in force ("close") was performed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from django.db import connections, router
from django.utils import timezone

from crm import tallies
from customers.models import Customer

from . import churn_flag
from .models import ChurnDay, ChurnLast, ChurnSpan, Status, Ticket

ALL = "all"
CLOSE = "close"  # closures' "close" action (closures.models.Action.CLOSE; service sits below closures)
RESOLVED = (Status.RESOLVED, Status.CLOSED)
FIELDS = (
    "customer_id",
    "created_at",
    "category_id",
    "status",
    "first_response_breached",
    "resolution_breached",
    "reopen_count",
    "closed_within_90",
)
BATCH = 500  # cards per refresh query (SQLite's bound parameters)
LOCK_SPACE = 20_260  # advisory lock keys LOCK_SPACE·2³² + card id: "churn after service, this card"


def groups_of(category_id, status, first_response_breached, resolution_breached, reopen_count) -> tuple[str, ...]:
    """The groups a ticket is in: every ticket, its SLA result, reopened or not, its category."""
    if first_response_breached or resolution_breached:
        sla = "sla:missed"
    else:
        sla = "sla:met" if status in RESOLVED else "sla:open"
    return (ALL, sla, "again:yes" if reopen_count else "again:no", f"cat:{category_id}")


def churn_key(ticket: Ticket) -> tuple:
    """What of a ticket the rows depend on: an operation that leaves it equal refreshes nothing."""
    groups = groups_of(
        ticket.category_id,
        ticket.status,
        ticket.first_response_breached,
        ticket.resolution_breached,
        ticket.reopen_count,
    )
    return (ticket.customer_id, ticket.created_at, ticket.closed_within_90, groups)


def _lasts(rows: Iterable[tuple]) -> dict[tuple[int, str], list]:
    """{(card, group): [last day, last closed day]} of ticket rows in FIELDS order."""
    zone, found = timezone.get_default_timezone(), {}
    for customer_id, created_at, category_id, status, fr, res, reopened, closed in rows:
        day = timezone.localtime(created_at, zone).date()
        for group in groups_of(category_id, status, fr, res, reopened):
            entry = found.setdefault((customer_id, group), [day, None])
            entry[0] = max(entry[0], day)
            if closed and (entry[1] is None or day > entry[1]):
                entry[1] = day
    return found


def _spans(closures: list[tuple], last_day: date) -> tuple:
    """The (performed_at, reverted_at) of the closures performed on a day before ``last_day``."""
    zone = timezone.get_default_timezone()
    return tuple(
        sorted(
            (performed, reverted)
            for performed, reverted, _action in closures
            if timezone.localtime(performed, zone).date() < last_day
        )
    )


def _closed_at(closures: list[tuple]) -> datetime | None:
    """When the closure in force with the "close" action was performed (None: there is none)."""
    return max(
        (performed for performed, reverted, action in closures if reverted is None and action == CLOSE), default=None
    )


def _rows(lasts: dict, since: dict[int, date], closures: dict[int, list]) -> dict[tuple[int, str], tuple]:
    """{(card, group): (last_day, last_closed_day, since_day, spans, closed_at)}: the rows as stored."""
    rows = {}
    for (customer_id, group), (last_day, closed_day) in lasts.items():
        if group == ALL:
            theirs = closures.get(customer_id, [])
            spans = _spans(theirs, last_day)
            rows[(customer_id, group)] = (last_day, closed_day, since.get(customer_id), spans, _closed_at(theirs))
        else:
            rows[(customer_id, group)] = (last_day, closed_day, None, (), None)
    return rows


def recount(customer_ids: Iterable[int], *, using: str = "default") -> dict[tuple[int, str], tuple]:
    """What the rows of these cards should be, from their tickets, closures and "customer since"."""
    ids = sorted(set(customer_ids))
    tickets = Ticket.objects.using(using).order_by().filter(customer_id__in=ids).values_list(*FIELDS)
    lasts = _lasts(tickets)
    with_tickets = sorted({customer_id for customer_id, _group in lasts})
    since = (
        dict(Customer.objects.using(using).filter(pk__in=with_tickets).values_list("pk", "customer_since"))
        if with_tickets
        else {}
    )
    return _rows(lasts, since, churn_flag.closures(with_tickets, using=using) if with_tickets else {})


def stored(customer_ids: Iterable[int] | None = None, *, using: str = "default") -> dict[tuple[int, str], tuple]:
    """The rows as stored (of these cards; of every card without ``customer_ids``)."""
    rows, spans = ChurnLast.objects.using(using).order_by(), ChurnSpan.objects.using(using).order_by()
    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        rows, spans = rows.filter(customer_id__in=ids), spans.filter(customer_id__in=ids)
    theirs: dict[int, list] = {}
    for customer_id, *span in spans.values_list("customer_id", "performed_at", "reverted_at"):
        theirs.setdefault(customer_id, []).append(tuple(span))
    return {
        (cid, group): (last_day, closed_day, since_day, tuple(sorted(theirs.get(cid, ()))) if group == ALL else (), at)
        for cid, group, last_day, closed_day, since_day, at in rows.values_list(
            "customer_id", "group_key", "last_day", "last_closed_day", "since_day", "closed_at"
        )
    }


def day_counts(rows: dict[tuple[int, str], tuple], sign: int = 1) -> Counter:
    """{(group, day, column): n} of rows: each row counts once on its last day, once on its last closed day."""
    counts = Counter()
    for (_cid, group), (last_day, closed_day, *_rest) in rows.items():
        counts[(group, last_day, "customers")] += sign
        if closed_day is not None:
            counts[(group, closed_day, "closed")] += sign
    return counts


def stored_days(*, using: str = "default") -> Counter:
    """The day rows as stored, in ``day_counts``' shape (zeros left out)."""
    counts = Counter()
    for group, day, customers, closed in ChurnDay.objects.using(using).values_list(
        "group_key", "day", "customers", "closed"
    ):
        for column, n in (("customers", customers), ("closed", closed)):
            if n:
                counts[(group, day, column)] = n
    return counts


def refresh(customer_ids: Iterable[int], *, using: str | None = None) -> None:
    """Recount the rows of these cards and move the day counts by the difference, in the caller's transaction."""
    using = using or router.db_for_write(ChurnLast)
    ids = sorted(set(customer_ids))
    if not ids or _nothing_to_count(ids, using):
        return
    _lock(ids, using)
    deltas = Counter()
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        old, new = stored(batch, using=using), recount(batch, using=using)
        if old == new:
            continue
        deltas.update(day_counts(old, -1))
        deltas.update(day_counts(new))
        changed = sorted({key[0] for key in set(old) | set(new) if old.get(key) != new.get(key)})
        ChurnLast.objects.using(using).filter(customer_id__in=changed).delete()
        ChurnSpan.objects.using(using).filter(customer_id__in=changed).delete()
        _write({key: values for key, values in new.items() if key[0] in set(changed)}, using)
    _add_days(deltas, using)


def _nothing_to_count(ids: list[int], using: str) -> bool:
    """No ticket and no stored row for these cards (a closure of a card without tickets, the usual
    case): nothing to recount, and nothing to lock, since there is nothing to write. A ticket another
    transaction is adding meanwhile is counted by that transaction's own refresh."""
    if len(ids) > BATCH:
        return False
    tickets = Ticket.objects.using(using).filter(customer_id__in=ids)
    return not tickets.exists() and not ChurnLast.objects.using(using).filter(customer_id__in=ids).exists()


def rebuild(*, using: str | None = None) -> int:
    """Recount every row from the tickets (a DELETE and batched inserts); returns the card rows written."""
    using = using or router.db_for_write(ChurnLast)
    tickets = Ticket.objects.using(using).order_by().values_list(*FIELDS).iterator(chunk_size=20_000)
    lasts = _lasts(tickets)
    ids = {customer_id for customer_id, _group in lasts}
    cards = Customer.objects.using(using).order_by().values_list("pk", "customer_since").iterator(chunk_size=20_000)
    since = {pk: day for pk, day in cards if pk in ids}
    rows = _rows(lasts, since, churn_flag.closures(None, using=using))
    for model in (ChurnLast, ChurnSpan, ChurnDay):
        model.objects.using(using).all().delete()
    _write(rows, using)
    _add_days(day_counts(rows), using)
    return len(rows)


def _write(rows: dict[tuple[int, str], tuple], using: str) -> None:
    """Insert the rows (and the ``all`` rows' spans) of cards that have none stored."""
    lasts, spans = [], []
    for (customer_id, group), (last_day, closed_day, since_day, theirs, closed_at) in sorted(rows.items()):
        lasts.append(
            ChurnLast(
                customer_id=customer_id,
                group_key=group,
                last_day=last_day,
                last_closed_day=closed_day,
                since_day=since_day,
                closed_at=closed_at,
            )
        )
        spans += [
            ChurnSpan(customer_id=customer_id, performed_at=p, reverted_at=r, last_day=last_day, since_day=since_day)
            for p, r in theirs
        ]
    ChurnLast.objects.using(using).bulk_create(lasts, batch_size=5000)
    ChurnSpan.objects.using(using).bulk_create(spans, batch_size=5000)


def _add_days(deltas: Counter, using: str) -> None:
    rows: dict[tuple, list[int]] = {}
    for (group, day, column), n in deltas.items():
        if n:
            rows.setdefault((group, day), [0, 0])[0 if column == "customers" else 1] += n
    tallies.add_to(ChurnDay, ("group_key", "day"), ("customers", "closed"), rows.items(), using=using)


def _lock(ids: list[int], using: str) -> None:
    """PostgreSQL: one transaction-level advisory lock per card, taken in id order."""
    if connections[using].vendor != "postgresql":
        return
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s * 4294967296 + id)"
            " FROM (SELECT unnest(%s::bigint[]) AS id ORDER BY 1) cards",
            [LOCK_SPACE, ids],
        )
