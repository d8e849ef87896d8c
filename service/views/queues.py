"""The ticket queues (service/queues.py decides what each shows) and Managers' bulk reassignment."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.pagination import page_of
from crm.permissions import require

from .. import operations, queues
from ..forms import VIEW_LABELS, BulkReassignForm, QueueFilter
from ..models import OPEN_STATUSES, Ticket
from ..rows import ticket_rows

PER_PAGE = 25


@require("service.view_ticket")
def queue(request):
    """A queue (?view=mine|team|unassigned|overdue|waiting|all), its filters, sort and search in the URL."""
    filters = QueueFilter(request.GET, user=request.user)
    filters.is_valid()  # what does not parse is left out (a bad date, a team not offered)
    view = filters.chosen_view()
    page_obj = page_of(request, queues.queue(view, request.user, filters.cleaned_data), per_page=PER_PAGE)
    views = [(name, label) for name, label in VIEW_LABELS if name in dict(filters.fields["view"].choices)]
    manager = request.user.has_perm("service.manage_tickets")
    rows = queues.mark(page_obj.object_list)
    context = {
        "filters": filters,
        "view": view,
        "views": views,
        "page_obj": page_obj,
        "rows": rows,
        "rows_html": ticket_rows(rows, select=manager),
        "bulk_form": BulkReassignForm() if manager else None,
    }
    return render(request, "service/queue.html", context)


@require_POST
@require("service.change_ticket", "service.manage_tickets")
def bulk_reassign(request):
    """Reassign the ticked tickets, all or none: a refusal of one keeps every ticket as it was."""
    form = BulkReassignForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_back(request))
    try:
        moved = operations.bulk_reassign(
            form.cleaned_data["ids"], to=form.cleaned_data["to"], by=request.user, note=form.cleaned_data["note"]
        )
    except ValidationError as error:
        messages.error(request, _refusal(form.cleaned_data["ids"], error))
    except Ticket.DoesNotExist:
        messages.error(request, _("One of the ticked tickets no longer exists; nothing was reassigned."))
    else:
        messages.success(
            request, ngettext("%(n)s ticket reassigned.", "%(n)s tickets reassigned.", moved) % {"n": moved}
        )
    return redirect(_back(request))


def _refusal(ids, error: ValidationError) -> str:
    """The operation's refusal, naming the ticked tickets that are no longer open (the usual cause)."""
    done = list(Ticket.objects.filter(pk__in=ids).exclude(status__in=OPEN_STATUSES).values_list("number", flat=True))
    words = " ".join(error.messages)
    if not done:
        return words
    return _("%(numbers)s: %(refusal)s Nothing was reassigned.") % {
        "numbers": ", ".join(sorted(done)),
        "refusal": words,
    }


def _back(request) -> str:
    query = request.POST.get("query", "")
    return reverse("service:queue") + (f"?{query}" if query and "\n" not in query and "\r" not in query else "")
