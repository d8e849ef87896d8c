"""The follow-ups queue: my callbacks due today, overdue and upcoming; the team's for Managers."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from crm.permissions import require


@require("followups.view_followup")
def queue(request):
    """Placeholder until the queue is built (helper "callbacks")."""
    return render(request, "followups/queue.html", {"title": _("Follow-ups")})
