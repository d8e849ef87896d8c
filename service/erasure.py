"""What erasing a card (closures/erasure.py) does to its tickets: the customer's words go, the
service facts stay.

A ticket quotes the customer: its subject, the need in their words, what was done and told, the
files attached. Erasure cancels the card's open tickets through the ticket operations (audited,
"personal data deleted") and then replaces every such text with the erased marker and deletes the
attachments (after the erasure commits: a deleted file cannot come back with a rollback). Numbers,
categories, channels, teams, dates, SLA targets and whether they were met stay, so the service
dashboard's figures do not change.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import ERASED_MARKER

from . import operations
from .models import OPEN_STATUSES, Step, Ticket


def personal_values(customer_id: int) -> list[str]:
    """The texts of the card's tickets, as they may be quoted in audit entries (redacted with the rest)."""
    values: list[str] = []
    for subject, need in Ticket.objects.filter(customer_id=customer_id).values_list("subject", "need"):
        values += [subject, need]
    steps = Step.objects.filter(ticket__customer_id=customer_id)
    for content, result, name in steps.values_list("content", "result", "attachment_name"):
        values += [content, result, name]
    return [v for v in values if v and v != ERASED_MARKER]


def forget_customer(customer, *, by, request=None) -> None:
    """Cancel the card's open tickets and wipe the customer's words from all of them (inside the erasure)."""
    for pk in (
        Ticket.objects.filter(customer=customer, status__in=OPEN_STATUSES).order_by("pk").values_list("pk", flat=True)
    ):
        operations.cancel(
            pk, by=by, note=_("The customer's personal data was deleted."), request=request, on_erasure=True
        )
    Ticket.objects.filter(customer=customer).update(subject=ERASED_MARKER, need="")
    steps = Step.objects.filter(ticket__customer=customer)
    files = list(steps.exclude(attachment="").values_list("attachment", flat=True))
    steps.exclude(content="").update(content=ERASED_MARKER)
    steps.update(result="", attachment="", attachment_name="")
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
