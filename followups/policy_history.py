"""What the audit trail needs from followups to show the policy's changes in the reader's language:
the actions' titles, each changed rule in words (kept in the entry, so a deleted rule still reads),
the template it was, and the fields' labels and values. Registered in FollowupsConfig.ready()."""

from django.utils.translation import gettext_lazy

from closures.models import Action
from crm import audit_display
from crm.audit import ACTION_LABELS

from . import policy
from .models import Channel, Kind

LABELS = {
    "followups.rule_add": gettext_lazy("Follow-up rule added"),
    "followups.rule_change": gettext_lazy("Follow-up rule changed"),
    "followups.rule_delete": gettext_lazy("Follow-up rule deleted"),
    "followups.template_change": gettext_lazy("Message template changed"),
}


def _rule(entry) -> str:
    kept = (entry.data or {}).get("rule")
    if not isinstance(kept, dict):
        return entry.summary
    try:
        return policy.rule_words(*(kept.get(name) for name in policy.RULE_FIELDS[:7]))
    except (TypeError, ValueError):
        return entry.summary


def _template(entry) -> str:
    kept = (entry.data or {}).get("template")
    if not isinstance(kept, dict):
        return entry.summary
    return policy.template_words(kept.get("kind", ""), kept.get("channel", ""), kept.get("language", ""))


def _choices(choices):
    return lambda value: str(dict(choices).get(value, value))


def register() -> None:
    # crm keeps the titles of the actions it knows; these are ours (crm cannot import followups).
    ACTION_LABELS.update(LABELS)
    for action in ("followups.rule_add", "followups.rule_change", "followups.rule_delete"):
        audit_display.register_summary(action, _rule)
    audit_display.register_summary("followups.template_change", _template)
    audit_display.register_fields(
        {
            "rule_action": gettext_lazy("Closure action"),
            "followup_kind": gettext_lazy("Follow-up"),
            "channel": gettext_lazy("Channel"),
            "delay_days": gettext_lazy("After (days)"),
            "working_days": gettext_lazy("Working days"),
            "active": gettext_lazy("Enabled"),
            "position": gettext_lazy("Order"),
            "template_subject": gettext_lazy("Subject"),
            "template_text": gettext_lazy("Text"),
            "provider_template": gettext_lazy("Provider template code"),
        },
        values={
            "rule_action": _choices(Action.choices),
            "followup_kind": _choices(Kind.choices),
            "channel": _choices(Channel.choices),
        },
    )
