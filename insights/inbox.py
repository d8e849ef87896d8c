"""What insights puts into the to-do inbox (crm/inbox.py), registered in InsightsConfig.ready():

- "insights.new_at_risk": the user's own customers (the cards they own) whose warning became news
  since they last opened the inbox — raised, or reached high risk (``RiskWarning.alerted_at``) — and
  at most ``NEW_DAYS`` ago, on active cards whose warning is still open. The scoring runs tell the
  inbox which owners' counts changed (insights/runs.py).
- "insights.callbacks_due": the retention callbacks assigned to the user, not made yet, due today
  or earlier, on active cards (index retention_callbacks_due). The actions tell the inbox
  (insights/actions.py).

Each count is one query: the first reads the few open warnings alerted in the last days (partial
index warning_alerted_open) and keeps the user's cards, the second the user's undone callbacks.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from crm import inbox, scopes
from customers.models import Customer, local_today

from . import risk
from .actions import CALLBACKS_DUE, callbacks_due
from .models import DigestReader, RiskWarning

NEW_AT_RISK = "insights.new_at_risk"
NEW_DAYS = 7  # a warning older than this is no longer news, looked at or not
PANEL_ROWS = 10


def alerted_for(user, *, days: int = NEW_DAYS):
    """The open warnings on ``user``'s active cards that became news in the last ``days`` days."""
    return RiskWarning.objects.filter(
        cleared_on=None,
        alerted_at__gte=timezone.now() - timedelta(days=days),
        customer__owner_id=user.pk,
        customer__status=Customer.Status.ACTIVE,
    )


def due_for(user):
    """``user``'s retention callbacks not made yet, due today or earlier, on active cards."""
    due = callbacks_due(user).filter(due_on__lte=local_today(), customer__status=Customer.Status.ACTIVE)
    return scopes.visible(due, user)


def _new_count(user) -> int:
    return alerted_for(user).filter(alerted_at__gt=inbox.since_seen(user, NEW_AT_RISK)).count()


def remember_language(user) -> None:
    """Keep the language ``user`` reads the app in, for their digest (written only when it changed)."""
    language = translation.get_language()
    if not language or DigestReader.objects.filter(user_id=user.pk, language=language).exists():
        return
    with transaction.atomic():
        DigestReader.objects.update_or_create(user_id=user.pk, defaults={"language": language})


def _new_panel(request, seen_at) -> str:
    """The user's customers that became news lately, those since ``seen_at`` (None: never) marked new."""
    remember_language(request.user)
    related = ("customer", "customer__score")
    rows = list(alerted_for(request.user).select_related(*related).order_by("-alerted_at", "-pk")[: PANEL_ROWS + 1])
    for row in rows:
        row.is_new = seen_at is None or row.alerted_at > seen_at
        score = getattr(row.customer, "score", None)
        current = score.risk if score else row.risk
        row.band = risk.band(current)
        row.current_risk = current
        reasons = score.reasons if score else row.reasons
        row.words = risk.describe(reasons[0]) if reasons else ""
    listed = f"{reverse('insights:at_risk')}?owner={request.user.pk}"
    context = {"rows": rows[:PANEL_ROWS], "more": len(rows) > PANEL_ROWS, "mine": listed, "new_days": NEW_DAYS}
    return render_to_string("insights/_inbox_new_at_risk.html", context, request=request)


def _due_panel(request, _seen) -> str:
    rows = list(due_for(request.user).select_related("customer")[: PANEL_ROWS + 1])
    context = {"rows": rows[:PANEL_ROWS], "more": len(rows) > PANEL_ROWS, "today": local_today()}
    return render_to_string("insights/_inbox_callbacks_due.html", context, request=request)


def register() -> None:
    inbox.register(
        inbox.Source(
            key=NEW_AT_RISK,
            label=_("Customers newly at risk"),
            permission="insights.view_score",
            url="insights:at_risk",
            count=_new_count,
            panel=_new_panel,
            tracks_seen=True,
        )
    )
    inbox.register(
        inbox.Source(
            key=CALLBACKS_DUE,
            label=_("Retention callbacks due"),
            permission="insights.view_retentionaction",
            url="insights:actions",
            count=lambda user: due_for(user).count(),
            panel=_due_panel,
        )
    )
