"""Whether each ticket's card was closed within 90 days after the ticket opened
(``service.Ticket.closed_within_90``, read by the churn-after-service figures): the closures' side.

    closed within 90 days = the card has a closure with the "close" action, not reverted,
                            performed at or after the ticket opened and less than 90 days after.

Closures decide it, so it lives here, and it is registered with the service app
(service/churn_flag.py) for the ticket writes that change it (a ticket opened or imported with
its moment, tickets moved to another card). ``closures.writes.write_closures`` refreshes the cards
whose closures it writes or reverts ("close" ones: void and archive do not count), in the
closure's transaction; a bulk closure refreshes its cards in batches. ``fill`` sets the flag of
every ticket at once (the migration that added it, the scale seed after loading).

Each refresh is one UPDATE of the card's tickets (the ticket (customer, created_at) index) with an
EXISTS into the card's open closure (the one-open-closure-per-card index): a few rows per card.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import router
from django.db.models import DateTimeField as DateTimeOutput
from django.db.models import Exists, ExpressionWrapper, OuterRef, Value

from service import churn_summary
from service.models import Ticket

from .models import Action, Closure

WINDOW = timedelta(days=90)
BATCH = 500  # cards per UPDATE (SQLite's bound parameters)


def closed_within(window: timedelta = WINDOW, *, start_field: str = "created_at", using: str | None = None) -> Exists:
    """Exists: the ticket's card was closed (not reverted) within ``window`` after ``start_field``."""
    until = ExpressionWrapper(OuterRef(start_field) + Value(window), output_field=DateTimeOutput())
    closures = Closure.objects.using(using) if using else Closure.objects
    return Exists(
        closures.filter(
            customer=OuterRef("customer"),
            action=Action.CLOSE,
            reverted_at__isnull=True,
            performed_at__gte=OuterRef(start_field),
            performed_at__lt=until,
        )
    )


def value(customer_id: int, opened_at) -> bool:
    """The flag of a ticket of ``customer_id`` opened at ``opened_at`` (not saved yet)."""
    return Closure.objects.filter(
        customer_id=customer_id,
        action=Action.CLOSE,
        reverted_at__isnull=True,
        performed_at__gte=opened_at,
        performed_at__lt=opened_at + WINDOW,
    ).exists()


def refresh(customer_ids, *, using: str | None = None) -> int:
    """Recount the flag of every ticket of these cards; returns how many tickets changed."""
    using = using or router.db_for_write(Ticket)
    ids, changed = sorted(set(customer_ids)), 0
    for start in range(0, len(ids), BATCH):
        tickets = Ticket.objects.using(using).filter(customer_id__in=ids[start : start + BATCH])
        flag = closed_within(using=using)
        changed += tickets.filter(closed_within_90=True).exclude(flag).update(closed_within_90=False)
        changed += tickets.filter(flag, closed_within_90=False).update(closed_within_90=True)
    return changed


def refresh_closures(closures) -> None:
    """After closures were written or reverted: the flags of the cards of the "close" ones, then
    the churn-after-service rows of every card (they keep the cards' closures too)."""
    refresh(c.customer_id for c in closures if c.action == Action.CLOSE)
    churn_summary.refresh(c.customer_id for c in closures)


def closures_of(customer_ids, *, using: str = "default") -> dict[int, list]:
    """{card: [(performed_at, reverted_at, action), ...]}: every closure of these cards (None: of every card)."""
    rows = Closure.objects.using(using).order_by()
    found: dict[int, list] = {}
    if customer_ids is None:
        parts = [rows]
    else:
        ids = sorted(set(customer_ids))
        parts = [rows.filter(customer_id__in=ids[i : i + BATCH]) for i in range(0, len(ids), BATCH)]
    for part in parts:
        for customer_id, *closure in part.values_list("customer_id", "performed_at", "reverted_at", "action"):
            found.setdefault(customer_id, []).append(tuple(closure))
    return found


def fill(*, using: str = "default") -> int:
    """Set the flag of every ticket from the closures (set-based); returns how many are set."""
    Ticket.objects.using(using).filter(closed_within_90=True).exclude(closed_within(using=using)).update(
        closed_within_90=False
    )
    return (
        Ticket.objects.using(using)
        .filter(closed_within(using=using), closed_within_90=False)
        .update(closed_within_90=True)
    )
