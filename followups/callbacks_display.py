"""How the callbacks' audit entries read on the card's timeline and the audit page (crm.audit_display),
registered in FollowupsConfig.ready: what came of a call, when the next one is, and which follow-up
won a reinstated card back ("Won back by a callback")."""

from __future__ import annotations

from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import audit
from crm.audit_display import register_detail, register_fields

from .models import Followup, Kind

LABELS = {
    "followup.outcome": gettext_lazy("Callback recorded"),
    "followup.reassign": gettext_lazy("Callback reassigned"),
    "followup.decline": gettext_lazy("Reinstatement declined"),
    "followup.retry": gettext_lazy("Failed message sent again"),
}


def won_back_words(kind: str, _loaded=None) -> str:
    words = {
        Kind.CALLBACK: gettext_lazy("Won back by a callback"),
        Kind.WINBACK: gettext_lazy("Won back by a win-back offer"),
        Kind.SURVEY: gettext_lazy("Won back by the exit survey"),
        Kind.NOTICE: gettext_lazy("Won back after the closure notice"),
    }
    return str(words.get(kind, gettext_lazy("Won back by a follow-up")))


def _outcome(value: str, _loaded) -> str:
    return _("Outcome: %(outcome)s") % {"outcome": dict(Followup.Outcome.choices).get(value, value)}


def _retry_at(value: str, _loaded) -> str:
    try:
        when = formats.date_format(timezone.localtime(datetime.fromisoformat(value)), "DATETIME_FORMAT")
    except (TypeError, ValueError):
        when = value
    return _("Next call: %(when)s") % {"when": when}


def register() -> None:
    audit.ACTION_LABELS.update(LABELS)
    register_detail("won_back", won_back_words)
    register_detail("callback_outcome", _outcome)
    register_detail("retry_at", _retry_at)
    register_fields({"assigned_to": gettext_lazy("Assigned to")})
