"""What the follow-ups put into the to-do inbox (crm/inbox.py), registered in FollowupsConfig.ready():

- "followups.callbacks_due": the user's callbacks due now or overdue (index followup_assignee_state_due);
- "followups.to_reinstate": for Managers, customers who want to come back, recorded on a callback by
  someone who may not reinstate, waiting for a Manager to reinstate the card (partial index
  followup_to_reinstate: the few rows with that outcome and not yet won back).
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from crm import inbox, scopes

from .callbacks import DUE, TO_REINSTATE, due_now, to_reinstate

PANEL_ROWS = 10
RELATED = ("customer", "closure__reason", "done_by")


def _panel(rows, template: str, request) -> str:
    rows = list(rows.select_related(*RELATED)[: PANEL_ROWS + 1])
    return render_to_string(template, {"rows": rows[:PANEL_ROWS], "more": len(rows) > PANEL_ROWS}, request=request)


def register() -> None:
    inbox.register(
        inbox.Source(
            key=DUE,
            label=_("Callbacks due"),
            permission="followups.change_followup",
            url="followups:queue",
            count=lambda user: due_now(user).count(),
            panel=lambda request, _seen: _panel(
                due_now(request.user).order_by("due_at", "pk"), "followups/_inbox_due.html", request
            ),
        )
    )
    inbox.register(
        inbox.Source(
            key=TO_REINSTATE,
            label=_("Won back, to reinstate"),
            permission="followups.manage_followups",
            url="followups:team",
            count=lambda user: scopes.visible(to_reinstate(), user).count(),
            panel=lambda request, _seen: _panel(
                scopes.visible(to_reinstate(), request.user).order_by("done_at", "pk"),
                "followups/_inbox_to_reinstate.html",
                request,
            ),
        )
    )
