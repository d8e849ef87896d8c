"""The card's "Service" panel (customers.panels), registered in ServiceConfig.ready: the card's open
tickets first, then its history, the latest ``LATEST``, in one query whatever the card's history
(index ticket_customer_created: a card's tickets are few), and a link to all of them in the queue."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When

from . import queues
from .models import OPEN_STATUSES, Ticket

LATEST = 10


def context(request, customer) -> dict:
    open_first = Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())
    tickets = (
        Ticket.objects.filter(customer_id=customer.pk)
        .annotate(done=open_first)
        .select_related("category", "team", "assignee")
        .order_by("done", "-created_at", "-pk")[: LATEST + 1]
    )
    rows = queues.mark(tickets)
    return {"tickets": rows[:LATEST], "more": len(rows) > LATEST}
