"""What closures puts into the to-do inbox (crm/inbox.py), registered in ClosuresConfig.ready():

- "closures.approvals": pending requests the user may decide — every pending request but their own
  (a Manager never decides their own) — for those with closures.decide_closurerequest;
- "closures.decided": the user's requests decided by someone else since they last opened the inbox
  (approved, rejected, or withdrawn because the card was deleted; not the ones they withdrew
  themselves), for those with closures.add_closure.

Each count is one query on an index of its own (ClosureRequest's Meta): the pending requests alone
(a partial index), and the user's requests by decision time.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from crm import inbox, scopes

from .models import ClosureRequest

APPROVALS = "closures.approvals"
DECIDED = "closures.decided"
PANEL_ROWS = 10


def to_decide(user):
    """The pending requests ``user`` may decide: all but their own, on the cards in their data scope."""
    pending = ClosureRequest.objects.filter(state=ClosureRequest.State.PENDING).exclude(requested_by_id=user.pk)
    return scopes.visible(pending, user)


def decided_for(user):
    """``user``'s requests that someone else decided (self-withdrawn ones left out)."""
    # A decision time means decided (or withdrawn): a pending request has none. Requester, time and
    # decider are the index's columns (closurerequest_by_decided), so the count reads nothing else.
    decided = ClosureRequest.objects.filter(requested_by_id=user.pk, decided_at__isnull=False)
    return scopes.visible(decided.exclude(decided_by_id=user.pk), user)


def _approvals_count(user) -> int:
    return to_decide(user).count()


def _decided_count(user) -> int:
    return decided_for(user).filter(decided_at__gt=inbox.since_seen(user, DECIDED)).count()


def _approvals_panel(request, _seen_at) -> str:
    rows = list(
        to_decide(request.user)
        .select_related("customer", "reason", "requested_by")
        .order_by("requested_at", "id")[: PANEL_ROWS + 1]
    )
    context = {"rows": rows[:PANEL_ROWS], "more": len(rows) > PANEL_ROWS}
    return render_to_string("closures/_inbox_approvals.html", context, request=request)


def _decided_panel(request, seen_at) -> str:
    """The user's latest decided requests, those decided since ``seen_at`` (None: never looked) marked new."""
    related = ("customer", "reason", "decided_by")
    rows = list(decided_for(request.user).select_related(*related).order_by("-decided_at", "-id")[:PANEL_ROWS])
    for row in rows:
        row.is_new = seen_at is None or row.decided_at > seen_at
    return render_to_string("closures/_inbox_decided.html", {"rows": rows}, request=request)


def register() -> None:
    inbox.register(
        inbox.Source(
            key=APPROVALS,
            label=_("Closure requests to decide"),
            permission="closures.decide_closurerequest",
            url="closures:request_queue",
            count=_approvals_count,
            panel=_approvals_panel,
        )
    )
    inbox.register(
        inbox.Source(
            key=DECIDED,
            label=_("My requests decided"),
            permission="closures.add_closure",
            url="closures:my_requests",
            count=_decided_count,
            panel=_decided_panel,
            tracks_seen=True,
        )
    )
