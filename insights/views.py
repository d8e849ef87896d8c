"""The "At risk" list: active customers by value at risk (expected value × risk), with the reasons."""

from __future__ import annotations

from django.shortcuts import render

from crm.pagination import page_of
from crm.permissions import require
from customers.models import Customer

from . import risk
from .forms import AtRiskFilter
from .models import Score

ROW_FIELDS = (
    *("customer_id", "risk", "reasons", "segment", "expected_value", "value_at_risk", "recency_days", "as_of"),
    *("customer__customer_no", "customer__name", "customer__owner_id", "customer__owner__username"),
)


@require("insights.view_score", "customers.view_customer")
def at_risk(request):
    """Who is about to leave, why, and what they are worth; filters and sort in the URL."""
    filters = AtRiskFilter(request.GET)
    scores = Score.objects.filter(customer__status=Customer.Status.ACTIVE).select_related("customer__owner")
    page_obj = page_of(request, filters.narrowed(scores.only(*ROW_FIELDS)))
    for score in page_obj.object_list:
        score.band = risk.band(score.risk)
        score.words = [risk.describe(reason) for reason in score.reasons]
    return render(request, "insights/at_risk.html", {"filters": filters, "page_obj": page_obj})
