"""What service puts into the to-do inbox (crm/inbox.py), registered in ServiceConfig.ready():
"service.due", the user's tickets being worked that are overdue or due before the end of today.

The count reads the user's open tickets through the index ticket_assignee_open and tests the due
times on their rows: at two million tickets the busiest user of the benchmark data (6,974 open
tickets, 4,331 of them due) takes 20–50 ms, which the inbox's cache absorbs. The ticket
operations call ``inbox.changed`` for it (service.operations._finish).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import inbox, scopes

from . import queues
from .models import Ticket
from .operations import INBOX_DUE

PANEL_ROWS = 10


def due_today(user):
    """``user``'s tickets being worked (not waiting) that are overdue or due before tomorrow."""
    tomorrow = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    due = Q(first_response_at__isnull=True, first_response_due__lt=tomorrow) | Q(resolution_due__lt=tomorrow)
    return scopes.visible(Ticket.objects.filter(due, assignee_id=user.pk, status__in=queues.WORKING), user)


def _panel(request, _seen) -> str:
    rows = list(due_today(request.user).select_related("customer").order_by("resolution_due", "pk")[: PANEL_ROWS + 1])
    context = {"rows": queues.mark(rows[:PANEL_ROWS]), "more": len(rows) > PANEL_ROWS}
    return render_to_string("service/_inbox_due.html", context, request=request)


def register() -> None:
    inbox.register(
        inbox.Source(
            key=INBOX_DUE,
            label=_("My tickets overdue or due today"),
            permission="service.change_ticket",
            url="service:queue",
            count=lambda user: due_today(user).count(),
            panel=_panel,
        )
    )
