"""Changing the follow-up policy (the Admin's policy page): rules and message templates.

    rule_problems(rule) -> {field: message}       what is wrong with a rule, in words (empty: nothing)
    save_rule(rule, *, by, request=None) -> Rule   add (no pk yet: goes last) or change a rule
    delete_rule(rule, *, by, request=None) -> int  delete; returns its pending follow-ups (they stay planned)
    move_rule(rule, step, *, by, request=None)     one place up (-1) or down (+1)
    set_active(rule, active, *, by, request=None)  enable or disable
    save_template(template, *, by, request=None)   write or change a message template
    rule_words(...) / describe(rule) -> str        a rule in plain words, in the active language

Each write is atomic and audited with old → new values (``followups.rule_add``, ``rule_change``,
``rule_delete``, ``template_change``; followups/history.py puts them into words). Rule writes lock
every rule (a policy has tens of rows), so two Admins cannot add the same rule at once or interleave
a reordering; a refusal is a ValidationError a user can read, field by field.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from closures import categories
from closures.models import Action
from crm import audit

from . import messages
from .models import Channel, Followup, Kind, MessageTemplate, Rule

MAX_DELAY = 365
RULE_FIELDS = ("action", "category", "segment", "kind", "channel", "delay_days", "working_days", "active", "position")
# The names the audit trail knows these fields by: a bare "kind" is an interaction's there.
AUDIT_NAMES = {"action": "rule_action", "kind": "followup_kind"}
TEMPLATE_FIELDS = {"subject": "template_subject", "body": "template_text", "provider_template": "provider_template"}
MESSAGE_CHANNELS = (Channel.EMAIL, Channel.SMS)

SEGMENT_WORDS = {
    "potential": gettext_lazy("Potential customers"),
    "regular": gettext_lazy("Regular customers"),
    "key": gettext_lazy("Key accounts"),
}
CHANNEL_WORDS = {"email": gettext_lazy("e-mail"), "sms": gettext_lazy("SMS"), "phone": gettext_lazy("phone")}


# --- A rule in words ------------------------------------------------------------------------------


def rule_words(
    action: str, category: str, segment: str, kind: str, channel: str, delay_days: int, working_days: bool
) -> str:
    """ "Close card · any reason · Key accounts → Callback by the card's owner, 3 working days after
    the closure", in the active language."""
    parts = [str(Action(action).label) if action in Action.values else action]
    parts.append(categories.label(category) if category else _("any reason"))
    if segment:
        parts.append(str(SEGMENT_WORDS.get(segment, segment)))
    if kind == Kind.CALLBACK:
        what = _("Callback by the card's owner")
    else:
        label = str(Kind(kind).label) if kind in Kind.values else kind
        what = _("%(kind)s by %(channel)s") % {"kind": label, "channel": CHANNEL_WORDS.get(channel, channel)}
    if not delay_days:
        when = _("right after the closure")
    elif working_days:
        when = ngettext(
            "%(count)s working day after the closure", "%(count)s working days after the closure", delay_days
        ) % {"count": delay_days}
    else:
        when = ngettext("%(count)s day after the closure", "%(count)s days after the closure", delay_days) % {
            "count": delay_days
        }
    return _("%(when)s → %(what)s, %(then)s") % {"when": " · ".join(parts), "what": what, "then": when}


def describe(rule: Rule) -> str:
    return rule_words(*(getattr(rule, name) for name in RULE_FIELDS[:7]))


def snapshot(rule: Rule | None) -> dict:
    """The rule's fields by their audit names (empty for no rule)."""
    return {AUDIT_NAMES.get(name, name): getattr(rule, name) for name in RULE_FIELDS} if rule is not None else {}


def _plain(rule: Rule) -> dict:
    """What an audit entry keeps to describe the rule later, even once it is deleted."""
    return {name: getattr(rule, name) for name in RULE_FIELDS}


# --- The rules' checks ----------------------------------------------------------------------------


def rule_problems(rule: Rule) -> dict[str, str]:
    """What is wrong with ``rule`` (unsaved values), by field; ``None`` for the whole rule."""
    found: dict = {}
    if rule.kind == Kind.CALLBACK and rule.channel != Channel.PHONE:
        found["channel"] = _("A callback is a phone call: choose Phone.")
    elif rule.kind and rule.kind != Kind.CALLBACK and rule.channel not in MESSAGE_CHANNELS:
        found["channel"] = _("A message goes by e-mail or SMS; the phone is for callbacks.")
    if rule.delay_days is None or not 0 <= rule.delay_days <= MAX_DELAY:
        found["delay_days"] = _("Between 0 and %(max)s days.") % {"max": MAX_DELAY}
    same = duplicate_of(rule)
    if same is not None:
        found[None] = _("This rule exists already: “%(rule)s”. Change that one instead.") % {"rule": describe(same)}
    return found


def duplicate_of(rule: Rule) -> Rule | None:
    """Another rule for the same action, category, segment and kind (a customer would get it twice)."""
    same = Rule.objects.filter(action=rule.action, category=rule.category, segment=rule.segment, kind=rule.kind)
    return same.exclude(pk=rule.pk).first() if rule.pk else same.first()


def _locked_rules() -> list[Rule]:
    return list(Rule.objects.select_for_update().order_by("position", "pk"))


def _record(action: str, rule: Rule, changes: dict, *, by, request, described: Rule | None = None) -> None:
    audit.record(
        action,
        actor=by,
        request=request,
        obj=rule,
        object_type="followuprule",
        object_id=rule.pk,
        changes=changes,
        data={"rule": _plain(described or rule)},
    )


# --- Rule operations ------------------------------------------------------------------------------


def save_rule(rule: Rule, *, by, request=None) -> Rule:
    """Add ``rule`` (no pk yet: it goes to the end of the list) or save the changes made to it.

    Refused with the field's message: a callback not on the phone, a message on the phone, a delay
    outside 0–365 days, and a rule that repeats another (same action, category, segment and kind).
    Order and active are kept as they were: they change through ``move_rule`` and ``set_active``.
    """
    with transaction.atomic():
        rules = _locked_rules()
        before = next((r for r in rules if r.pk == rule.pk), None) if rule.pk else None
        if rule.pk and before is None:
            raise ValidationError(_("This rule was deleted meanwhile."), code="gone")
        problems = rule_problems(rule)
        if problems:
            raise ValidationError({field or "__all__": message for field, message in problems.items()})
        if before is None:
            rule.position = max((r.position for r in rules), default=0) + 1
        else:
            rule.position, rule.active = before.position, before.active
        rule.save()
        changes = audit.diff(snapshot(before), snapshot(rule))
        if before is None or changes:
            _record("followups.rule_change" if before else "followups.rule_add", rule, changes, by=by, request=request)
    return rule


def delete_rule(rule: Rule, *, by, request=None) -> int:
    """Delete ``rule``. The follow-ups it planned stay (a pending one is still sent or called);
    returns how many of them are pending, for the message."""
    with transaction.atomic():
        rules = _locked_rules()
        locked = next((r for r in rules if r.pk == rule.pk), None)
        if locked is None:
            return 0
        pending = pending_of(locked)
        changes = audit.diff(snapshot(locked), dict.fromkeys(snapshot(locked)))
        pk = locked.pk
        locked.delete()
        locked.pk = pk
        _record("followups.rule_delete", locked, changes, by=by, request=request)
    return pending


def pending_of(rule: Rule) -> int:
    """How many follow-ups ``rule`` planned that are still to be sent or called."""
    return Followup.objects.filter(rule=rule, state=Followup.State.PENDING).count()


def move_rule(rule: Rule, step: int, *, by, request=None) -> None:
    """Move ``rule`` one place up (``step`` -1) or down (+1) in the list; the ends stay put. The
    positions are renumbered 1, 2, 3… so the order is always plain."""
    with transaction.atomic():
        rules = _locked_rules()
        index = next((i for i, r in enumerate(rules) if r.pk == rule.pk), None)
        if index is None:
            raise ValidationError(_("This rule was deleted meanwhile."), code="gone")
        target = index + (1 if step > 0 else -1)
        if not 0 <= target < len(rules):
            return
        rules[index], rules[target] = rules[target], rules[index]
        for place, each in enumerate(rules, start=1):
            if each.position != place:
                each.position = place
                each.save(update_fields=["position", "updated_at"])
        _record("followups.rule_change", rules[target], {"position": [index + 1, target + 1]}, by=by, request=request)


def set_active(rule: Rule, active: bool, *, by, request=None) -> Rule:
    """Enable or disable ``rule``: a disabled rule plans nothing (what it planned stays)."""
    with transaction.atomic():
        locked = Rule.objects.select_for_update().filter(pk=rule.pk).first()
        if locked is None:
            raise ValidationError(_("This rule was deleted meanwhile."), code="gone")
        if locked.active != active:
            locked.active = active
            locked.save(update_fields=["active", "updated_at"])
            _record("followups.rule_change", locked, {"active": [not active, active]}, by=by, request=request)
    return locked


# --- Message templates ----------------------------------------------------------------------------


def template_name(template: MessageTemplate) -> str:
    """ "Exit survey · E-mail · English", in the active language."""
    return template_words(template.kind, template.channel, template.language)


def template_words(kind: str, channel: str, language: str) -> str:
    return " · ".join(
        (
            str(Kind(kind).label) if kind in Kind.values else kind,
            str(Channel(channel).label) if channel in Channel.values else channel,
            str(dict(settings.LANGUAGES).get(language, language)),
        )
    )


def missing_templates(rules: list[Rule]) -> dict[int, list[tuple[str, str]]]:
    """For each message rule, the languages (code, name) its kind and channel have no template in:
    a customer in that language cannot be sent the message."""
    written = set(MessageTemplate.objects.values_list("kind", "channel", "language"))
    return {
        rule.pk: [
            (code, str(name)) for code, name in settings.LANGUAGES if (rule.kind, rule.channel, code) not in written
        ]
        for rule in rules
        if rule.kind != Kind.CALLBACK and rule.channel in MESSAGE_CHANNELS
    }


def template_problems(template: MessageTemplate) -> dict[str, list[str]]:
    """What is wrong with a template's words, by field (followups.messages.problems)."""
    found = {}
    for name in ("subject", "body"):
        listed = messages.problems(getattr(template, name))
        if listed:
            found[name] = listed
    if template.channel == Channel.EMAIL and not template.subject.strip():
        found.setdefault("subject", []).append(_("An e-mail needs a subject."))
    return found


def save_template(template: MessageTemplate, *, by, request=None) -> MessageTemplate:
    """Write (no pk yet) or change the template of one kind, channel and language. An SMS has no
    subject. Refused: an unknown placeholder, an unclosed brace, an e-mail without a subject."""
    if template.channel == Channel.SMS:
        template.subject = ""
    problems = template_problems(template)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        before = (
            MessageTemplate.objects.select_for_update()
            .filter(kind=template.kind, channel=template.channel, language=template.language)
            .first()
        )
        if before is not None:
            template.pk = before.pk
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError as exc:  # another Admin wrote it a moment ago
            raise ValidationError(
                _("Another Admin has just written this template: open it again."), code="taken"
            ) from exc
        old = {TEMPLATE_FIELDS[n]: getattr(before, n) for n in TEMPLATE_FIELDS} if before is not None else {}
        changes = audit.diff(old, {TEMPLATE_FIELDS[n]: getattr(template, n) for n in TEMPLATE_FIELDS})
        if changes:
            audit.record(
                "followups.template_change",
                actor=by,
                request=request,
                obj=template,
                object_type="messagetemplate",
                changes=changes,
                data={"template": {"kind": template.kind, "channel": template.channel, "language": template.language}},
            )
    return template
