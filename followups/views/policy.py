"""The follow-up policy page (Admin): the rules in words, and the message templates with a preview.

followups/policy.py does the writing, checks and audit; these views show the forms and put a
refusal next to its field.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.permissions import require

from .. import policy, preview
from ..models import Channel, Kind, MessageTemplate, Rule
from ..policy_forms import RuleForm, TemplateForm

PERMISSION = "followups.change_followuppolicy"
TEMPLATE_KINDS = [k for k in Kind if k != Kind.CALLBACK]


@require(PERMISSION)
def policy_page(request):
    rules = list(Rule.objects.order_by("position", "pk"))
    missing = policy.missing_templates(rules)
    for rule in rules:
        rule.words, rule.missing = policy.describe(rule), missing.get(rule.pk, [])
    written = {(t.kind, t.channel, t.language): t for t in MessageTemplate.objects.all()}
    templates = [
        {
            "kind": kind,
            "channel": channel,
            "language": code,
            "language_name": name,
            "template": written.get((kind.value, channel.value, code)),
        }
        for kind in TEMPLATE_KINDS
        for channel in policy.MESSAGE_CHANNELS
        for code, name in settings.LANGUAGES
    ]
    return render(request, "followups/policy.html", {"rules": rules, "templates": templates})


def _saved(request, form) -> bool:
    """Save a valid rule form through the operation; a refusal goes next to its field."""
    try:
        policy.save_rule(form.instance, by=request.user, request=request)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    return True


@require(PERMISSION)
def rule_create(request):
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _saved(request, form):
        messages.success(request, _("Rule added: %(rule)s") % {"rule": policy.describe(form.instance)})
        return redirect("followups:policy")
    return render(request, "followups/policy_rule_form.html", {"form": form})


@require(PERMISSION)
def rule_edit(request, pk: int):
    rule = get_object_or_404(Rule, pk=pk)
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid() and _saved(request, form):
        messages.success(request, _("Rule saved: %(rule)s") % {"rule": policy.describe(form.instance)})
        return redirect("followups:policy")
    return render(request, "followups/policy_rule_form.html", {"form": form, "rule": rule})


@require(PERMISSION)
def rule_delete(request, pk: int):
    rule = get_object_or_404(Rule, pk=pk)
    rule.words = policy.describe(rule)
    if request.method == "POST":
        pending = policy.delete_rule(rule, by=request.user, request=request)
        messages.success(request, _("Rule deleted: %(rule)s") % {"rule": rule.words})
        if pending:
            messages.info(request, _planned(pending))
        return redirect("followups:policy")
    return render(request, "followups/policy_rule_delete.html", {"rule": rule, "pending": policy.pending_of(rule)})


def _planned(pending: int) -> str:
    return ngettext(
        "%(count)s follow-up it had already planned stays planned.",
        "%(count)s follow-ups it had already planned stay planned.",
        pending,
    ) % {"count": pending}


@require_POST
@require(PERMISSION)
def rule_move(request, pk: int):
    rule = get_object_or_404(Rule, pk=pk)
    try:
        policy.move_rule(rule, -1 if request.POST.get("direction") == "up" else 1, by=request.user, request=request)
    except ValidationError as exc:  # deleted by another Admin a moment ago
        messages.error(request, " ".join(exc.messages))
    return redirect("followups:policy")


@require_POST
@require(PERMISSION)
def rule_active(request, pk: int):
    rule = get_object_or_404(Rule, pk=pk)
    try:
        rule = policy.set_active(rule, request.POST.get("active") == "1", by=request.user, request=request)
    except ValidationError as exc:  # deleted by another Admin a moment ago
        messages.error(request, " ".join(exc.messages))
        return redirect("followups:policy")
    done = _("Rule enabled: %(rule)s") if rule.active else _("Rule disabled: %(rule)s")
    messages.success(request, done % {"rule": policy.describe(rule)})
    return redirect("followups:policy")


def _template(kind: str, channel: str, language: str) -> MessageTemplate:
    """The template of this kind, channel and language: the written one, or a new one to write."""
    if kind not in {k.value for k in TEMPLATE_KINDS} or channel not in policy.MESSAGE_CHANNELS:
        raise Http404
    if language not in dict(settings.LANGUAGES):
        raise Http404
    found = MessageTemplate.objects.filter(kind=kind, channel=channel, language=language).first()
    return found or MessageTemplate(kind=kind, channel=channel, language=language)


@require(PERMISSION)
def template_edit(request, kind: str, channel: str, language: str):
    template = _template(kind, channel, language)
    form = TemplateForm(request.POST or None, instance=template)
    previewing = "preview" in request.POST
    if request.method == "POST" and form.is_valid() and not previewing:
        try:
            policy.save_template(form.instance, by=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Template saved: %(name)s") % {"name": policy.template_name(template)})
            return redirect("followups:policy")
    # The preview: of what was typed (Preview, when it is valid), or of the saved words when opened.
    shown = (form.is_valid() and previewing) if form.is_bound else template.pk is not None
    page = "followups/policy_template_form.html"
    return render(request, f"{page}#editor" if request.htmx and previewing else page, _editor(form, template, shown))


def _editor(form, template: MessageTemplate, shown: bool) -> dict:
    context = {"form": form, "template": template, "name": policy.template_name(template)}
    context["placeholders"] = preview.placeholders()
    if shown:
        context["preview"] = preview.preview(form.instance)
        context["sms"] = preview.sms_length(context["preview"].text) if template.channel == Channel.SMS else None
    return context
