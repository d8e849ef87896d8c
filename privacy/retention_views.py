"""The retention pages (Admins: privacy.manage_retention): the rules with their preview, a rule's
form, the list of a rule's cards to download, a run and its report, the legal holds. Each view
calls an operation of privacy/retention.py, retention_runs.py or holds.py."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Job
from crm.permissions import require
from crm.spreadsheets import write_csv
from customers.models import Customer

from . import holds, retention, retention_runs
from .forms import HoldForm, ReleaseForm, RuleForm
from .models import LegalHold, RetentionRule

PERMISSION = retention_runs.PERMISSION
HELD_SHOWN = 50
SPOOL_BYTES = 8 << 20  # a rule's list is kept in memory up to this size, on disk beyond


@require(PERMISSION)
def rules(request):
    previews = [retention.preview(rule) for rule in RetentionRule.objects.order_by("id")]
    runs = Job.objects.filter(kind=retention_runs.JOB_KIND).select_related("created_by").order_by("-created_at")[:10]
    context = {"previews": previews, "runs": runs, "live": retention_runs.live_run()}
    return render(request, "privacy/retention_rules.html", context)


@require(PERMISSION)
def edit_rule(request, pk: int):
    rule = get_object_or_404(RetentionRule, pk=pk)
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        retention.change_rule(
            rule, after_months=data["after_months"], enabled=data["enabled"], by=request.user, request=request
        )
        messages.success(request, _("Rule saved."))
        return redirect("privacy:retention")
    context = {"rule": rule, "form": form, "meaning": retention.meaning(rule)}
    return render(request, "privacy/retention_rule_form.html", context)


@require(PERMISSION)
def rule_list(request, pk: int):
    """Every card the rule would touch now, and every card it holds back with why, as CSV (no personal
    data), written by the exports' CSV writer (crm.spreadsheets: a BOM for Excel, formula-safe cells)."""
    rule = get_object_or_404(RetentionRule, pk=pk)
    rows = retention.list_rows(rule)
    handle = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (FileResponse closes it once sent)
    write_csv(handle, next(rows), rows)
    handle.seek(0)
    stamp = timezone.localdate().isoformat()
    name = f"retention-{rule.status}-{rule.action}-{stamp}.csv"
    return FileResponse(handle, as_attachment=True, filename=name, content_type="text/csv; charset=utf-8")


@require(PERMISSION)
@require_POST
def run(request):
    try:
        job = retention_runs.start(by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("privacy:retention")
    messages.success(request, _("The retention run has started."))
    return redirect("privacy:retention_run", job=job.pk)


@require(PERMISSION)
def run_report(request, job):
    run_job = get_object_or_404(Job.objects.select_related("created_by"), pk=job, kind=retention_runs.JOB_KIND)
    rules_by_pk = RetentionRule.objects.in_bulk()
    outcomes = [
        {**outcome, "rule": rules_by_pk.get(outcome["rule"]), "held": retention.labelled(outcome["held"])}
        for outcome in (run_job.result or {}).get("rules", [])
    ]
    context = {"job": run_job, "outcomes": outcomes}
    return render(request, "privacy/retention_run.html", context)


@require(PERMISSION)
def hold_list(request):
    """The legal holds in force, and the cards some rule would touch but another hold keeps, with why."""
    active = LegalHold.objects.active().select_related("customer", "placed_by")
    automatic = []
    for rule in RetentionRule.objects.filter(enabled=True).exclude(action=RetentionRule.Act.REVIEW).order_by("id"):
        held = retention.held(retention.candidates(rule)).order_by("pk")
        page = list(held[:HELD_SHOWN])
        why = retention.why_held(held.filter(pk__in=[card.pk for card in page]))
        rows = [(card, [retention.HOLDS[key] for key in why.get(card.pk, [])]) for card in page]
        automatic.append({"rule": rule, "count": held.count(), "rows": rows})
    context = {"active": active, "automatic": automatic}
    return render(request, "privacy/holds.html", context)


@require(PERMISSION, "customers.view_customer")
def place_hold(request, pk: int):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            holds.place(customer, form.cleaned_data["reason"], by=request.user, request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Legal hold placed: this card will not be erased until it is released."))
            return redirect("customers:card", pk=customer.pk)
    current = LegalHold.objects.active().filter(customer=customer).select_related("placed_by").first()
    return render(request, "privacy/hold_form.html", {"customer": customer, "form": form, "current": current})


@require(PERMISSION, "customers.view_customer")
def release_hold(request, pk: int):
    hold = get_object_or_404(LegalHold.objects.select_related("customer", "placed_by"), pk=pk)
    form = ReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            holds.release(hold, form.cleaned_data["note"], by=request.user, request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Legal hold released."))
            return redirect("customers:card", pk=hold.customer_id)
    return render(request, "privacy/hold_release.html", {"hold": hold, "form": form})
