"""Moving a card's tickets to another card: a record voided as a duplicate hands its whole service
history (open and finished tickets alike) to the card that survives it, so no ticket is stranded
on a void card. Exposed as ``service.operations.move_tickets``.

Called inside the caller's transaction with both cards locked (the closure operations lock them in
primary-key order; customers.merge calls its registered movers under the same locks). One UPDATE
moves the tickets however many there are; each ticket gets a step saying where it came from, and
each card one audit entry listing the ticket numbers (``ticket.move_out`` on the duplicate,
``ticket.move_in`` on the survivor), so both timelines tell the story.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit, outbox
from customers.models import Customer

from . import churn_flag, tally
from .models import Step, Ticket


def move_tickets(from_customer, to_customer, *, by, note: str = "", request=None) -> int:
    """Move every ticket of ``from_customer`` to ``to_customer``; returns how many moved."""
    from_id = getattr(from_customer, "pk", from_customer)
    to_id = getattr(to_customer, "pk", to_customer)
    if from_id == to_id:
        return 0
    from_no = getattr(from_customer, "customer_no", str(from_id))
    to_no = getattr(to_customer, "customer_no", str(to_id))
    with transaction.atomic():
        rows = list(
            Ticket.objects.select_for_update()
            .filter(customer_id=from_id)
            .order_by("pk")
            .values("pk", "number", *tally.FIELDS, "customer_id")
        )
        if not rows:
            return 0
        tickets = [(row["pk"], row["number"]) for row in rows]
        owners = dict(Customer.objects.filter(pk__in=[from_id, to_id]).values_list("pk", "owner_id"))
        # The owner summary: the tickets are counted under the owner of the card they move to.
        tally.moved(rows, {from_id: owners.get(from_id)}, {from_id: owners.get(to_id)})
        now = timezone.now()
        ids = [pk for pk, _number in tickets]
        Ticket.objects.filter(pk__in=ids).update(customer_id=to_id, updated_at=now, version=F("version") + 1)
        churn_flag.refresh([from_id, to_id])  # closed within 90 days: now of the card they moved to; churn rows of both
        words = _("Moved from card %(from)s to card %(to)s (a duplicate).") % {"from": from_no, "to": to_no}
        content = f"{words} {note.strip()}".strip()
        Step.objects.bulk_create(
            [Step(ticket_id=pk, kind=Step.Kind.NOTE, content=content, by=by, happened_at=now) for pk in ids]
        )
        numbers = [number for _pk, number in tickets]
        for action, customer_id, other in (("ticket.move_out", from_id, to_no), ("ticket.move_in", to_id, from_no)):
            audit.record(
                action,
                actor=by,
                request=request,
                object_type="customer",
                object_id=customer_id,
                customer_id=customer_id,
                summary=", ".join(numbers[:20]) + (" …" if len(numbers) > 20 else ""),
                notes=note,
                data={"tickets": numbers, "card": other, "count": len(numbers)},
            )
        outbox.emit_many(
            "ticket.move",
            [
                {"object_type": "ticket", "object_id": pk, "customer_id": to_id, "payload": {"from": from_id}}
                for pk in ids
            ],
            actor=by,
        )
        return len(ids)


def merge_mover(locked_duplicate, locked_survivor, *, by, request=None) -> dict:
    """customers.merge's hook: a merge moves the duplicate's tickets too (registered in ServiceConfig.ready)."""
    moved = move_tickets(locked_duplicate, locked_survivor, by=by, request=request)
    return {"tickets": moved} if moved else {}
