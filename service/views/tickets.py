"""The ticket page (its facts, SLA, steps and the forms of what can be done next), each action's
POST view, a new ticket from a card, and the attachments' download."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import scopes
from crm.permissions import require
from customers.models import Customer

from .. import actions, operations, sla
from ..forms import NewTicketForm
from ..models import Step, Ticket

PAGE_RELATED = ("customer", "category", "team", "assignee", "created_by", "sla_policy")
STEP_RELATED = ("by", "from_team", "to_team")


@require("service.view_ticket")
def ticket(request, pk: int):
    """One ticket in a fixed number of queries, however many steps it has."""
    return _page(
        request, get_object_or_404(scopes.visible(Ticket.objects.select_related(*PAGE_RELATED), request.user), pk=pk)
    )


def _page(request, ticket: Ticket, *, failed: str = "", form=None, errors=(), status: int = 200):
    """The ticket page; after a refused action, that action's form with its errors (and a 400)."""
    team_ids = set(request.user.teams.values_list("pk", flat=True))
    shown = actions.shown(request.user, ticket, team_ids)
    forms = {name: (form if name == failed else action.make_form()) for name, action in actions.ACTIONS.items()}
    if failed != "change_sla":  # the SLA form starts from the ticket's targets
        forms["change_sla"].initial = {
            "first_response_minutes": ticket.first_response_minutes,
            "resolution_minutes": ticket.resolution_minutes,
        }
    now = timezone.now()
    context = {
        "ticket": ticket,
        "customer": ticket.customer,
        "steps": list(ticket.steps.select_related(*STEP_RELATED)),
        "shown": shown,
        "any_action": any(shown.values()),
        "workable": actions.may_work(request.user, ticket, team_ids),
        "forms": forms,
        "failed": failed,
        "errors": errors,
        "overdue": sla.overdue(ticket, now),
        "now": now,
    }
    return render(request, "service/ticket.html", context, status=status)


def _act(request, pk: int, name: str):
    """Run action ``name`` on the ticket; a refusal re-renders the page with the message: 400, or 403
    when the ticket is not the user's to work (someone outside their team has it)."""
    action = actions.ACTIONS[name]
    ticket = get_object_or_404(scopes.visible(Ticket.objects.all(), request.user), pk=pk)
    form = action.make_form(request.POST, request.FILES)
    errors, status = [], 400
    if form is None or form.is_valid():
        try:
            action.run(ticket, request, form.cleaned_data if form is not None else {})
        except ValidationError as error:
            errors = actions.attach(form, error)
            status = 403 if getattr(error, "code", None) in actions.NOT_YOURS else 400
        else:
            messages.success(request, action.done % {"number": ticket.number})
            return redirect("service:ticket", pk=ticket.pk)
    ticket = get_object_or_404(scopes.visible(Ticket.objects.select_related(*PAGE_RELATED), request.user), pk=pk)
    return _page(request, ticket, failed=name, form=form, errors=errors, status=status)


@require_POST
@require("service.change_ticket")
def take(request, pk: int):
    return _act(request, pk, "take")


@require_POST
@require("service.change_ticket")
def step(request, pk: int):
    return _act(request, pk, "step")


@require_POST
@require("service.change_ticket")
def hand_off(request, pk: int):
    return _act(request, pk, "hand_off")


@require_POST
@require("service.change_ticket")
def start(request, pk: int):
    return _act(request, pk, "start")


@require_POST
@require("service.change_ticket")
def wait(request, pk: int):
    return _act(request, pk, "wait")


@require_POST
@require("service.change_ticket")
def resume(request, pk: int):
    return _act(request, pk, "resume")


@require_POST
@require("service.change_ticket")
def resolve(request, pk: int):
    return _act(request, pk, "resolve")


@require_POST
@require("service.change_ticket")
def close(request, pk: int):
    return _act(request, pk, "close")


@require_POST
@require("service.change_ticket")
def reopen(request, pk: int):
    return _act(request, pk, "reopen")


@require_POST
@require("service.change_ticket")
def cancel(request, pk: int):
    return _act(request, pk, "cancel")


@require_POST
@require("service.change_ticket", "service.manage_tickets")
def assign(request, pk: int):
    return _act(request, pk, "assign")


@require_POST
@require("service.change_ticket", "service.manage_tickets")
def change_sla(request, pk: int):
    return _act(request, pk, "change_sla")


@require("service.add_ticket")
def new_ticket(request, customer_pk: int):
    """Open a ticket on a card; the operation's refusals go next to their fields (400)."""
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer_pk)
    form = NewTicketForm(request.POST or None)
    errors, status = [], 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                opened = operations.open_ticket(customer, by=request.user, request=request, **form.cleaned_data)
            except ValidationError as error:
                errors = actions.attach(form, error)
            else:
                messages.success(request, _("Ticket %(number)s opened.") % {"number": opened.number})
                return redirect("service:ticket", pk=opened.pk)
    refused = customer.status in operations.CLOSED_CARD_STATUSES
    context = {"form": form, "customer": customer, "errors": errors, "refused": refused}
    return render(request, "service/new_ticket.html", context, status=status)


@require("service.view_ticket")
def attachment(request, pk: int):
    """A step's attachment as a download of the type its content was checked to be, never shown inline."""
    step = get_object_or_404(
        scopes.visible(Step.objects.exclude(attachment=""), request.user, "ticket__customer__"), pk=pk
    )
    try:
        handle = step.attachment.open("rb")
    except OSError as missing:
        raise Http404 from missing
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=step.attachment_name or "attachment",
        content_type=step.attachment_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
