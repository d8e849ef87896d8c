"""What a closure does with the card's open tickets (处理单): the one place closures touches service.

The impact page lists the card's open tickets and, when there are any, asks what happens to them:

- ``resolve``: each is resolved with the closer's note (service.operations.resolve);
- ``cancel``: each is cancelled with the note (service.operations.cancel);
- ``keep``: they stay open, for the record (someone may still owe the customer an answer).

The ticket operations do the work (``on_closure=True``: the closer settles tickets that are someone
else's), inside the closure's transaction and under its card lock. ``open_ticket`` locks the card
row too, so the set of open tickets cannot change under the confirmation: the confirmation compares
it with the set the preview listed (``choice.tickets_seen``) and refuses when it changed.

Voiding a record as a duplicate moves all its tickets, open or not, to the surviving card
(service.operations.move_tickets), so nothing is asked then.

Decided for the paths that have no impact page per card (documented on their pages):
- a request for approval, and its approval, keep the tickets open (the Manager approving sees the
  closure, not a ticket form); the closure's audit entry lists the tickets kept open;
- a bulk closure keeps them open too, and says so on its confirmation page.
A choice made without a preview (seeding, commands: ``tickets_seen`` None) keeps them open.

The choice and the tickets it touched are in the closure's audit entry (``data["tickets"]``), and
each ticket's own step says the card was closed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from service import operations as ticket_operations
from service.models import OPEN_STATUSES, Ticket

RESOLVE, CANCEL, KEEP = "resolve", "cancel", "keep"
CHOICES = [
    (RESOLVE, gettext_lazy("Resolve them with a note")),
    (CANCEL, gettext_lazy("Cancel them")),
    (KEEP, gettext_lazy("Keep them open for the record")),
]
CLOSED_WORDS = {
    "close": gettext_lazy("Card %(number)s was closed"),
    "void": gettext_lazy("Record %(number)s was voided"),
    "archive": gettext_lazy("Card %(number)s was archived"),
}


def open_ids(customer) -> tuple[int, ...]:
    """The card's open tickets, as the preview saw them (primary keys, in order)."""
    pk = getattr(customer, "pk", customer)
    return tuple(
        Ticket.objects.filter(customer_id=pk, status__in=OPEN_STATUSES).order_by("pk").values_list("pk", flat=True)
    )


def count_all(customer) -> int:
    """How many tickets the card has, open or not (all of them move with a duplicate)."""
    return Ticket.objects.filter(customer_id=getattr(customer, "pk", customer)).count()


def listed(ids) -> list[Ticket]:
    """The tickets the impact page lists (number, subject, status, assignee)."""
    return list(Ticket.objects.filter(pk__in=list(ids)).select_related("assignee").order_by("pk"))


def check(locked, choice) -> tuple[int, ...]:
    """The card's open tickets now (the card is locked): refused when they are not the ones the preview
    listed, or when the preview asked what happens to them and nothing was chosen."""
    now = open_ids(locked)
    if choice.tickets_seen is None:
        return now
    if set(now) != set(choice.tickets_seen):
        raise ValidationError(_("The card's open tickets changed; look again."), code="stale_tickets")
    if now and choice.tickets not in (RESOLVE, CANCEL, KEEP):
        raise ValidationError(_("Choose what happens to the card's open tickets."), code="tickets")
    if choice.tickets in (RESOLVE, CANCEL) and not (choice.tickets_note or "").strip():
        raise ValidationError(_("Write the note the tickets are resolved or cancelled with."), code="tickets_note")
    return now


def settle(locked, choice, ids, *, by, survivor=None, request=None) -> dict:
    """Apply the choice to the open tickets ``ids`` (or move every ticket to ``survivor``); returns the
    audit data of the closure's entry (empty when the card had no tickets to speak of)."""
    if survivor is not None:
        moved = ticket_operations.move_tickets(locked, survivor, by=by, request=request)
        return {"tickets": {"choice": "move", "count": moved, "to": survivor.customer_no}} if moved else {}
    if not ids:
        return {}
    how = choice.tickets if choice.tickets in (RESOLVE, CANCEL) else KEEP
    numbers = list(Ticket.objects.filter(pk__in=ids).order_by("pk").values_list("number", flat=True))
    if how != KEEP:
        words = str(CLOSED_WORDS.get(choice.action, CLOSED_WORDS["close"])) % {"number": locked.customer_no}
        note = f"{words}: {choice.tickets_note.strip()}"
        operation = ticket_operations.resolve if how == RESOLVE else ticket_operations.cancel
        for pk in ids:
            operation(pk, by=by, note=note, request=request, on_closure=True)
    return {"tickets": {"choice": how, "numbers": numbers, "note": (choice.tickets_note or "").strip()}}
