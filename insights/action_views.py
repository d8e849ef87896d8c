"""The retention actions' pages: plan a callback or log an attempt on a card at risk (from the card's
Actions menu and the "At risk" list), record a callback's result, and the list of actions with
their outcomes. Each view calls the operation in insights/actions.py and nothing else writes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from crm import scopes
from crm.pagination import page_of
from crm.permissions import require
from customers.models import Customer

from . import actions, risk
from .action_forms import ActionFilter, AttemptForm, CallbackForm, ResultForm
from .models import RetentionAction, Score


def _back(request, customer_id: int):
    """Where the form came from (the "At risk" list keeps its filters), else the card."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return redirect(wanted)
    return redirect("customers:card", pk=customer_id)


def _act(request, pk: int, form, do, title: str, done: str):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if request.method == "POST" and form.is_valid():
        try:
            do(customer, by=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)  # a field's message next to it, the others above the form
        else:
            messages.success(request, done)
            return _back(request, customer.pk)
    score = Score.objects.filter(customer_id=customer.pk).first()
    context = {
        "form": form,
        "customer": customer,
        "title": title,
        "score": score,
        "band": risk.band(score.risk) if score else None,
        "reasons": [risk.describe(r) for r in score.reasons] if score else [],
        "next": request.POST.get("next") or request.GET.get("next") or "",
    }
    return render(request, "insights/action_form.html", context)


@require("insights.add_retentionaction", "customers.view_customer")
def plan_callback(request, pk: int):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    form = CallbackForm(request.POST or None, customer=customer, user=request.user)
    return _act(request, pk, form, actions.plan_callback, _("Plan a retention callback"), _("Callback planned."))


@require("insights.add_retentionaction", "customers.view_customer")
def log_attempt(request, pk: int):
    form = AttemptForm(request.POST or None)
    return _act(request, pk, form, actions.log_attempt, _("Log a retention attempt"), _("Retention attempt logged."))


@require("insights.add_retentionaction", "customers.view_customer")
def record_result(request, pk: int):
    action = get_object_or_404(
        scopes.visible(RetentionAction.objects.select_related("customer"), request.user), pk=pk, kind="callback"
    )
    form = ResultForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_result(action, by=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Callback recorded."))
            return _back(request, action.customer_id)
    context = {"form": form, "customer": action.customer, "action": action, "title": _("Record the callback")}
    return render(request, "insights/action_form.html", context)


@require("insights.view_retentionaction", "customers.view_customer")
def action_list(request):
    """Every retention action with its outcome; filters in the URL."""
    filters = ActionFilter(request.GET)
    rows = RetentionAction.objects.select_related("customer", "created_by", "assigned_to", "closure__reason")
    rows = scopes.visible(rows, request.user)
    page_obj = page_of(request, filters.narrowed(rows, request.user))
    context = {"filters": filters, "page_obj": page_obj, "window": actions.window_days()}
    return render(request, "insights/action_list.html", context)
