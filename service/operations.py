"""The ticket operations: the only code that opens tickets or changes their status, assignee, team
or SLA. Views, imports, the closure flow and commands all call these.

    open_ticket(customer, *, by, subject, category, channel, priority, need="", team=None, assignee=None) -> Ticket
    take(ticket, *, by)                                  # an unassigned ticket becomes mine
    assign(ticket, *, to, by, note="")                   # Managers: give it to someone (and their team)
    bulk_reassign(ticket_ids, *, to, by, note="") -> int
    add_step(ticket, *, by, kind, content, result="", minutes_spent=None, happened_at=None, attachment=None) -> Step
    hand_off(ticket, *, to_team, by, note, assignee=None)   # 协同办公: to another team, with a note
    start / wait_for_customer / resume / resolve / close / reopen / cancel (ticket, *, by, note=...)
    change_sla(ticket, *, by, first_response_minutes, resolution_minutes, note)   # Managers
    move_tickets(from_customer, to_customer, *, by, note) -> int   # a duplicate card's tickets to the survivor

``resolve`` and ``cancel`` take ``on_closure=True`` when the closure flow settles a closing card's
open tickets: the closer may then resolve or cancel a ticket that is someone else's (closing the
card is the authority; closures/operations.py checked the closer's permission under the card lock).

Each runs in one transaction, locks the ticket row and re-reads it, checks the state machine
(service/states.py) and its own rules against the locked row, raises a ValidationError a user can
read, and writes together: the ticket, a step saying what happened, one audit entry on the card
(``ticket.<operation>``, so the card's timeline shows it), the outbox event ``ticket.<operation>``
and the service dashboard's summary (service/tally.py). ``request`` only adds the IP to the audit.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit, inbox, outbox, scopes
from customers.models import Customer

from . import attachments, churn_flag, churn_summary, sla, states, tally
from .calendar import Calendar, current
from .models import Status, Step, Ticket, TicketNumber
from .moves import move_tickets  # noqa: F401  (one of the operations, kept in its own module)

MANAGE = "service.manage_tickets"
WORK = "service.change_ticket"
CLOSED_CARD_STATUSES = ("void", "erased")  # no new tickets on an invalid record or an erased card
INBOX_DUE = "service.due"


def _now() -> dt.datetime:
    return timezone.now()


def next_number(year: int) -> str:
    """The next readable number of ``year`` (S2026-000123), counted on a locked row."""
    TicketNumber.objects.bulk_create([TicketNumber(year=year)], ignore_conflicts=True)
    counter = TicketNumber.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"S{year}-{counter.last:06d}"


def _locked(ticket: Ticket | int) -> Ticket:
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    # No select_related: under READ COMMITTED a row re-read after waiting for the lock comes back
    # with its joined rows as they were before the wait (a ticket just taken would show no assignee).
    return Ticket.objects.select_for_update().get(pk=pk)


def _note_required(note: str, message) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": message}, code="required")
    return note


def _may_work(by, ticket: Ticket) -> None:
    """Staff work tickets that are theirs, their team's or nobody's; Managers work every ticket."""
    if not by.has_perm(WORK):
        raise ValidationError(_("You may not work on tickets."), code="permission")
    if by.has_perm(MANAGE) or ticket.assignee_id in (None, by.pk):
        return
    if ticket.team_id and by.teams.filter(pk=ticket.team_id).exists():
        return
    raise ValidationError(
        _("%(name)s has this ticket; ask them or a Manager.") % {"name": ticket.assignee.get_username()},
        code="not_yours",
    )


def _before(ticket: Ticket) -> tuple:
    """What the summaries need of the locked ticket before an operation changes it."""
    return tally.snapshot(ticket), churn_summary.churn_key(ticket)


def _finish(
    ticket: Ticket, before, *, by, operation: str, step: Step | None, request=None, changes=None, notes="", data=None
):
    """Save the ticket and write its step, audit entry, event and summary: the end of every operation."""
    now = _now()
    ticket.updated_at = now
    ticket.version += 1
    ticket.save()
    if step is not None:
        step.ticket = ticket
        step.save()
    audit.record(
        f"ticket.{operation}",
        actor=by,
        request=request,
        obj=ticket,
        customer_id=ticket.customer_id,
        summary=f"{ticket.number} {ticket.subject}",
        changes=changes or {},
        data={"ticket": ticket.pk, "number": ticket.number, **(data or {})},
        notes=notes,
    )
    outbox.emit(
        f"ticket.{operation}",
        obj=ticket,
        customer_id=ticket.customer_id,
        actor=by,
        payload={
            "number": ticket.number,
            "status": ticket.status,
            "category": ticket.category.key,
            "priority": ticket.priority,
            "team": ticket.team_id,
            "assignee": ticket.assignee_id,
            "sla_met": ticket.sla_met,
            "reopen_count": ticket.reopen_count,
        },
    )
    counted, churn_key = before or (None, None)
    tally.changed(counted, ticket)
    if churn_key != churn_summary.churn_key(ticket):  # opened, resolved, reopened, missed a target ...
        churn_summary.refresh([ticket.customer_id])
    inbox.changed(INBOX_DUE)  # the header's "tickets due" counts (service/inbox.py)
    return ticket


def _status_step(ticket: Ticket, new_status: str, *, by, content: str = "", kind=Step.Kind.STATUS, **extra) -> Step:
    step = Step(
        kind=kind, content=content, by=by, old_status=ticket.status, new_status=new_status, happened_at=_now(), **extra
    )
    ticket.status = new_status
    return step


def open_ticket(
    customer: Customer | int,
    *,
    by,
    subject: str,
    category,
    channel: str,
    priority: str,
    need: str = "",
    team=None,
    assignee=None,
    created_at: dt.datetime | None = None,
    calendar: Calendar | None = None,
    request=None,
) -> Ticket:
    """Open a ticket on a card (locked, so a closure being confirmed sees it or refuses it)."""
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError({"subject": _("Say in a few words what the ticket is about.")}, code="required")
    if not category.active:
        raise ValidationError({"category": _("This category is retired; choose another.")}, code="retired")
    with transaction.atomic():
        pk = customer.pk if isinstance(customer, Customer) else customer
        card = Customer.objects.select_for_update().get(pk=pk)
        if card.status in CLOSED_CARD_STATUSES:
            raise ValidationError(
                _("This card is %(status)s: open the ticket on the customer's valid card.")
                % {"status": card.get_status_display().lower()},
                code="card_status",
            )
        opened = created_at or _now()
        ticket = Ticket(
            number=next_number(timezone.localtime(opened).year),
            customer=card,
            channel=channel,
            category=category,
            priority=priority,
            subject=subject,
            need=(need or "").strip(),
            team=team or (assignee.teams.filter(active=True).first() if assignee else None),
            assignee=assignee,
            status=Status.ASSIGNED if assignee else Status.NEW,
            created_by=by,
            created_at=opened,
            updated_at=opened,
            closed_within_90=churn_flag.value(card.pk, opened),  # a back-dated ticket may precede a closure
        )
        sla.apply_policy(ticket, calendar or current(), sla.policy_for(priority, category.pk))
        ticket.save()
        step = Step(kind=Step.Kind.STATUS, by=by, new_status=ticket.status, happened_at=opened, content=ticket.need)
        return _finish(ticket, None, by=by, operation="open", step=step, request=request)


def take(ticket: Ticket | int, *, by, request=None) -> Ticket:
    """Take an unassigned ticket; when someone already has it, say who."""
    with transaction.atomic():
        ticket = _locked(ticket)
        states.check("assign", ticket.status)
        if ticket.assignee_id == by.pk:
            return ticket
        if ticket.assignee_id is not None:
            raise ValidationError(
                _("%(name)s has already taken this ticket.") % {"name": ticket.assignee.get_username()}, code="taken"
            )
        if not by.has_perm(WORK):
            raise ValidationError(_("You may not work on tickets."), code="permission")
        return _assign(ticket, by, by=by, note="", request=request, operation="take")


def assign(ticket: Ticket | int, *, to, by, note: str = "", request=None) -> Ticket:
    """A Manager gives the ticket to ``to`` (the ticket joins ``to``'s team when it has none of theirs)."""
    if not by.has_perm(MANAGE):
        raise ValidationError(_("Only a Manager may reassign tickets."), code="permission")
    with transaction.atomic():
        ticket = _locked(ticket)
        states.check("assign", ticket.status)
        if ticket.assignee_id == to.pk:
            return ticket
        return _assign(ticket, to, by=by, note=(note or "").strip(), request=request, operation="assign")


def _assign(ticket: Ticket, to, *, by, note: str, request, operation: str) -> Ticket:
    before = _before(ticket)
    old = ticket.assignee.get_username() if ticket.assignee_id else ""
    ticket.assignee = to
    teams = list(to.teams.filter(active=True))
    if teams and ticket.team_id not in {team.pk for team in teams}:
        ticket.team = teams[0]
    new_status = Status.ASSIGNED if ticket.status == Status.NEW else ticket.status
    step = _status_step(ticket, new_status, by=by, content=note)
    return _finish(
        ticket,
        before,
        by=by,
        operation=operation,
        step=step,
        request=request,
        changes={"assignee": [old, to.get_username()]},
        notes=note,
    )


def bulk_reassign(ticket_ids, *, to, by, note: str = "", request=None) -> int:
    """Reassign many tickets at once (Managers), each through ``assign``; all or nothing. A ticket of a
    card outside ``by``'s data scope counts as one that does not exist (Ticket.DoesNotExist)."""
    wanted = set(ticket_ids)
    if scopes.visible(Ticket.objects.filter(pk__in=wanted), by).count() < len(wanted):
        raise Ticket.DoesNotExist
    with transaction.atomic():
        for pk in sorted(set(ticket_ids)):
            assign(pk, to=to, by=by, note=note, request=request)
    return len(set(ticket_ids))


def add_step(
    ticket: Ticket | int,
    *,
    by,
    kind: str,
    content: str,
    result: str = "",
    minutes_spent: int | None = None,
    happened_at: dt.datetime | None = None,
    attachment=None,
    request=None,
) -> Step:
    """Record work done, an internal note or what was told to the customer (a reply: the first one is
    the first response). Work on a new or assigned ticket starts it, and an unassigned ticket becomes
    the worker's. An attachment is checked by its content (service/attachments.py)."""
    content = (content or "").strip()
    if kind not in (Step.Kind.WORK, Step.Kind.NOTE, Step.Kind.REPLY):
        raise ValidationError({"kind": _("Choose what kind of step this is.")}, code="kind")
    if not content:
        raise ValidationError({"content": _("Say what was done or said.")}, code="required")
    content_type = attachments.check(attachment) if attachment else ""
    now = _now()
    if happened_at and happened_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"happened_at": _("A step cannot happen in the future.")}, code="future")
    with transaction.atomic():
        ticket = _locked(ticket)
        states.check("step", ticket.status)
        _may_work(by, ticket)
        before = _before(ticket)
        step = Step(
            kind=kind,
            content=content,
            result=(result or "").strip(),
            minutes_spent=minutes_spent,
            happened_at=happened_at or now,
            by=by,
            to_customer=kind == Step.Kind.REPLY,
        )
        if attachment:
            step.attachment_name = attachment.name[:200]
            step.attachment_type = content_type
            step.attachment_size = attachment.size
            step.attachment = attachment
        if ticket.assignee_id is None:
            ticket.assignee = by
        if ticket.status in (Status.NEW, Status.ASSIGNED):
            step.old_status, step.new_status = ticket.status, Status.IN_PROGRESS
            ticket.status = Status.IN_PROGRESS
        if kind == Step.Kind.REPLY:
            sla.responded(ticket, step.happened_at)
        _finish(ticket, before, by=by, operation="step", step=step, request=request, notes="")
        return step


def hand_off(ticket: Ticket | int, *, to_team, by, note: str, assignee=None, request=None) -> Ticket:
    """Hand the ticket to another team with a note (协同办公): the team's queue gets it, unassigned
    unless ``assignee`` (one of the team) is named."""
    note = _note_required(note, _("Say what the other team should know."))
    with transaction.atomic():
        ticket = _locked(ticket)
        states.check("hand_off", ticket.status)
        _may_work(by, ticket)
        if to_team.pk == ticket.team_id and assignee is None:
            raise ValidationError({"team": _("The ticket is already with this team.")}, code="same_team")
        if assignee is not None and not assignee.teams.filter(pk=to_team.pk).exists():
            raise ValidationError({"assignee": _("%(name)s is not in this team.") % {"name": assignee.get_username()}})
        before = _before(ticket)
        from_team = ticket.team
        ticket.team, ticket.assignee = to_team, assignee
        new_status = Status.ASSIGNED if assignee else Status.NEW
        if ticket.status == Status.WAITING:
            sla.end_pause(ticket, current(), _now())
        step = _status_step(
            ticket, new_status, by=by, content=note, kind=Step.Kind.HANDOFF, from_team=from_team, to_team=to_team
        )
        return _finish(
            ticket,
            before,
            by=by,
            operation="hand_off",
            step=step,
            request=request,
            changes={"team": [str(from_team or ""), str(to_team)]},
            notes=note,
            # Both names, so the card's timeline says where it came from and went in the reader's language.
            data={
                "to_team": [to_team.name_en, to_team.name_zh],
                **({"from_team": [from_team.name_en, from_team.name_zh]} if from_team else {}),
            },
        )


def _transition(ticket, operation: str, *, by, note: str = "", request=None, change=None, anyones=False):
    """One status change by the table; ``anyones``: the caller's own rules allowed it on any ticket."""
    with transaction.atomic():
        ticket = _locked(ticket)
        states.check(operation, ticket.status)
        if not anyones:
            _may_work(by, ticket)
        before = _before(ticket)
        old_status = ticket.status
        now = _now()
        new_status = states.target(operation)
        if change is not None:
            new_status = change(ticket, now) or new_status
        step = _status_step(ticket, new_status, by=by, content=note)
        return _finish(
            ticket,
            before,
            by=by,
            operation=operation,
            step=step,
            request=request,
            changes={"status": [old_status, new_status]},
            notes=note,
        )


def start(ticket, *, by, request=None) -> Ticket:
    def begin(t, now):
        if t.assignee_id is None:
            t.assignee = by

    return _transition(ticket, "start", by=by, request=request, change=begin)


def wait_for_customer(ticket, *, by, note: str, request=None) -> Ticket:
    """Waiting for the customer (documents, a visit): the resolution clock pauses."""
    note = _note_required(note, _("Say what you are waiting for."))
    return _transition(ticket, "wait", by=by, note=note, request=request, change=lambda t, now: sla.pause(t, now))


def resume(ticket, *, by, note: str = "", request=None) -> Ticket:
    return _transition(
        ticket,
        "resume",
        by=by,
        note=(note or "").strip(),
        request=request,
        change=lambda t, now: sla.end_pause(t, current(), now),
    )


def resolve(ticket, *, by, note: str, request=None, on_closure: bool = False) -> Ticket:
    """Resolved, with what solved it; the SLA's targets are judged now. ``on_closure``: the card is
    being closed and its closer settles the ticket (see the module's docstring)."""
    note = _note_required(note, _("Say what solved it."))
    return _transition(
        ticket,
        "resolve",
        by=by,
        note=note,
        request=request,
        change=lambda t, now: sla.resolved(t, current(), now),
        anyones=on_closure,
    )


def close(ticket, *, by, note: str = "", request=None) -> Ticket:
    def closing(t, now):
        t.closed_at = now

    return _transition(ticket, "close", by=by, note=(note or "").strip(), request=request, change=closing)


def reopen(ticket, *, by, note: str, request=None) -> Ticket:
    """Back to work with a note; counted (reopen rate), and its resolution clock runs again."""
    note = _note_required(note, _("Say why the ticket is reopened."))

    def again(t, now):
        t.reopen_count += 1
        sla.reopened(t, current(), now)
        return Status.ASSIGNED if t.assignee_id else Status.NEW

    return _transition(ticket, "reopen", by=by, note=note, request=request, change=again)


def cancel(ticket, *, by, note: str, request=None, on_erasure: bool = False, on_closure: bool = False) -> Ticket:
    """Cancelled with a note (opened by mistake, a duplicate, the card closed): kept, not counted as
    resolved. ``on_erasure``: the card's erasure cancels every open ticket, whoever has it;
    ``on_closure``: the card's closer cancels them (see the module's docstring)."""
    note = _note_required(note, _("Say why the ticket is cancelled."))

    def cancelling(t, now):
        t.paused_since = None
        t.closed_at = now

    return _transition(
        ticket, "cancel", by=by, note=note, request=request, change=cancelling, anyones=on_erasure or on_closure
    )


def change_sla(ticket, *, by, first_response_minutes: int, resolution_minutes: int, note: str, request=None) -> Ticket:
    """A Manager gives one ticket other targets (working minutes), with a note; due times are recounted."""
    if not by.has_perm(MANAGE):
        raise ValidationError(_("Only a Manager may change a ticket's SLA."), code="permission")
    note = _note_required(note, _("Say why this ticket gets another SLA."))
    for field, value in (
        ("first_response_minutes", first_response_minutes),
        ("resolution_minutes", resolution_minutes),
    ):
        if not value or value < 1:
            raise ValidationError({field: _("Give a target of at least one working minute.")}, code="min")
    with transaction.atomic():
        ticket = _locked(ticket)
        states.check("change_sla", ticket.status)
        before = _before(ticket)
        old = [ticket.first_response_minutes, ticket.resolution_minutes]
        ticket.first_response_minutes, ticket.resolution_minutes = first_response_minutes, resolution_minutes
        sla.recount(ticket, current())
        step = Step(kind=Step.Kind.SLA, by=by, content=note, happened_at=_now())
        return _finish(
            ticket,
            before,
            by=by,
            operation="change_sla",
            step=step,
            request=request,
            changes={
                "first_response_minutes": [old[0], first_response_minutes],
                "resolution_minutes": [old[1], resolution_minutes],
            },
            notes=note,
        )
