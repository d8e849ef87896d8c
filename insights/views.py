"""The "At risk" list: active customers by value at risk (expected value × risk), with the reasons;
its export; and the scoring settings an Admin reads."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from crm.exports import wants_machine_names
from crm.pagination import page_of
from crm.permissions import require

from . import exports, risk, settings_page
from .forms import AtRiskFilter, at_risk_scores

ROW_FIELDS = (
    *("customer_id", "risk", "reasons", "segment", "expected_value", "value_at_risk", "recency_days", "as_of"),
    *("customer__customer_no", "customer__name", "customer__owner_id", "customer__owner__username"),
)


@require("insights.view_score", "customers.view_customer")
def at_risk(request):
    """Who is about to leave, why, and what they are worth; filters and sort in the URL."""
    filters = AtRiskFilter(request.GET)
    scores = at_risk_scores(filters, request.user).select_related("customer__owner").only(*ROW_FIELDS)
    page_obj = page_of(request, scores)
    for score in page_obj.object_list:
        score.band = risk.band(score.risk)
        score.words = [risk.describe(reason) for reason in score.reasons]
    context = {"filters": filters, "page_obj": page_obj, "export_query": urlencode(exports.params_of(request.GET))}
    return render(request, "insights/at_risk.html", context)


@require("insights.export_scores", "insights.view_score", "customers.view_customer")
def at_risk_export(request):
    """The list's customers (its filters and sort) as .xlsx; a large export runs as a job."""
    params = exports.params_of(request.GET)
    export = exports.AtRiskExport(at_risk_scores(AtRiskFilter(params), request.user), params)
    export.machine_names = wants_machine_names(request.GET)
    if export.runs_as_job("xlsx"):
        job = export.start_job(request.user, "xlsx")
        messages.info(request, _("This export is large; it is being prepared and will be ready to download here."))
        return redirect("jobs:status", pk=job.pk)
    return export.respond(request, "xlsx")


@require("insights.view_scoring_settings")
def scoring_settings(request):
    """The risk weights, bands, periods, value bands and the last runs' models, each with its meaning."""
    return render(request, "insights/scoring_settings.html", settings_page.context())
