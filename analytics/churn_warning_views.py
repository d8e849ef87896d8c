"""The churn-warning dashboard (issue 21, section 3): who is at risk, what closures lost, whether the
warnings and the retention actions work.

The page is the filters and five placeholders; each panel comes after the page by htmx
(``?part=risk``, ``at_risk``, ``lost``, ``actions``, ``warned``), or as a page of its own without
JavaScript, so each is measured, and waits, on its own (analytics/churn_warning.py).
"""

import io

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from crm import audit
from crm.permissions import require
from insights.models import RetentionAction

from . import churn_warning as figures
from . import churn_warning_sheets
from .churn_warning_charts import lost_chart, risk_chart
from .churn_warning_filters import ChurnWarningFilter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLES = {
    "risk": _("Risk over time"),
    "at_risk": _("At risk now, by RFM segment and by owner"),
    "lost": _("Value lost by closure reason"),
    "actions": _("Retention actions and their outcomes"),
    "warned": _("Early warning: closures warned about beforehand"),
}


def _risk(cf):
    over_time = figures.risk_over_time(cf)
    return {"risk": over_time, "chart": risk_chart(over_time, cf)}


def _lost(cf):
    lost = figures.value_lost(cf)
    return {"lost": lost, "chart": lost_chart(lost, cf)}


PARTS = {
    "risk": _risk,
    "at_risk": lambda cf: {"now": figures.at_risk_now(cf)},
    "lost": _lost,
    "actions": lambda cf: {"retention": figures.retention(cf), "outcomes": RetentionAction.Outcome.choices},
    "warned": lambda cf: {"early": figures.early_warning(cf)},
}


@require("insights.view_risk_analytics")
def churn_warning(request):
    cf = ChurnWarningFilter(request.GET, user=request.user)
    context = {"filter": cf, "query": cf.query(), "period": cf.dates, "titles": TITLES}
    part = request.GET.get("part", "")
    if part not in PARTS:
        return render(request, "analytics/churn_warning.html", context)
    context.update(PARTS[part](cf), part=part, title=TITLES[part], panel=f"analytics/_churn_{part}.html")
    template = context["panel"] if request.htmx else "analytics/churn_warning_part.html"
    return render(request, template, context)


@require("insights.view_risk_analytics", "insights.export_scores")
@require_POST
def churn_warning_export(request):
    """The page's tables for the filters in the query string, as an .xlsx (a few hundred rows:
    written in the request). Managers and Admins: those who may export the customers at risk."""
    cf = ChurnWarningFilter(request.GET, user=request.user)
    out = io.BytesIO()
    churn_warning_sheets.write_workbook(out, cf)
    audit.record("analytics.churn_warning_export", actor=request.user, request=request, data={"filters": cf.params()})
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="churn-warning-{timezone.localdate():%Y%m%d}.xlsx"'
    return response
