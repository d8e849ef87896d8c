"""A ticket's SLA: which policy applies, when its first response and resolution are due, the
pauses while it waits for the customer, and whether each target was met. Called by the ticket
operations (service/operations.py) on the locked ticket; nothing here saves.

- Targets are copied from the policy when the ticket opens (``first_response_minutes``,
  ``resolution_minutes``), so a later change of the policy does not move old tickets; a Manager
  changes one ticket's targets with a note (operations.change_sla).
- Due times are counted in working time from the moment the ticket opened (service/calendar.py).
  Time spent waiting for the customer is not counted against the resolution target: the wait's
  working minutes are added to ``paused_minutes`` and the resolution due time moves on by them.
  The first-response clock does not pause (the customer is waiting for our first answer).
- The first response is the first step told to the customer (a reply), or the resolution.
- A reopened ticket's resolution clock resumes: the time it spent resolved counts as a pause.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from .calendar import Calendar
from .models import WORKING_STATUSES, SlaPolicy, Status, Ticket


def policy_for(priority: str, category_id: int | None) -> SlaPolicy | None:
    """The active policy for ``priority`` and the ticket's category, else for the priority and any category."""
    found = {
        policy.category_id: policy
        for policy in SlaPolicy.objects.filter(
            Q(category_id=category_id) | Q(category__isnull=True), priority=priority, active=True
        )
    }
    return found.get(category_id) or found.get(None)


def apply_policy(ticket: Ticket, calendar: Calendar, policy: SlaPolicy | None) -> None:
    ticket.sla_policy = policy
    ticket.first_response_minutes = policy.first_response_minutes if policy else None
    ticket.resolution_minutes = policy.resolution_minutes if policy else None
    recount(ticket, calendar)


def recount(ticket: Ticket, calendar: Calendar) -> None:
    """The due times from the targets, the opening moment and the pauses so far."""
    opened = ticket.created_at
    ticket.first_response_due = (
        calendar.add(opened, ticket.first_response_minutes) if ticket.first_response_minutes else None
    )
    ticket.resolution_due = (
        calendar.add(opened, ticket.resolution_minutes + ticket.paused_minutes) if ticket.resolution_minutes else None
    )


def pause(ticket: Ticket, now: dt.datetime) -> None:
    ticket.paused_since = now


def end_pause(ticket: Ticket, calendar: Calendar, now: dt.datetime) -> None:
    if ticket.paused_since is not None:
        ticket.paused_minutes += calendar.between(ticket.paused_since, now)
        ticket.paused_since = None
        recount(ticket, calendar)


def responded(ticket: Ticket, now: dt.datetime) -> None:
    """The first response happened at ``now`` (nothing changes after the first)."""
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.first_response_breached = bool(ticket.first_response_due and now > ticket.first_response_due)


def resolved(ticket: Ticket, calendar: Calendar, now: dt.datetime) -> None:
    end_pause(ticket, calendar, now)
    responded(ticket, now)
    ticket.resolved_at = now
    ticket.resolution_breached = ticket.resolution_breached or bool(
        ticket.resolution_due and now > ticket.resolution_due
    )


def reopened(ticket: Ticket, calendar: Calendar, now: dt.datetime) -> None:
    if ticket.resolved_at is not None:
        ticket.paused_minutes += calendar.between(ticket.resolved_at, now)
    ticket.resolved_at = None
    ticket.closed_at = None
    recount(ticket, calendar)


def overdue(ticket: Ticket, now: dt.datetime) -> bool:
    """Past a due time and still open (a ticket waiting for the customer is paused, not overdue)."""
    if ticket.status not in (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS):
        return False
    late_response = ticket.first_response_at is None and ticket.first_response_due and ticket.first_response_due < now
    return bool(late_response or (ticket.resolution_due and ticket.resolution_due < now))


def overdue_q(now: dt.datetime) -> Q:
    """The same rule as ``overdue``, for a queryset annotated with ``next_due`` (the "overdue" queue):
    a ticket being worked whose next due time has passed."""
    return Q(status__in=WORKING_STATUSES, next_due__lt=now)
