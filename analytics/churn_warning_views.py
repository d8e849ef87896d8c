"""The churn-warning dashboard (issue 21, section 3): who is at risk, what closures lost, whether the
warnings and the retention actions work.

The page is the filters and five placeholders; each panel comes after the page by htmx
(``?part=risk``, ``at_risk``, ``lost``, ``actions``, ``warned``), or as a page of its own without
JavaScript, so each is measured, and waits, on its own (analytics/churn_warning.py).
"""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from crm.permissions import require
from insights.models import RetentionAction

from . import churn_warning as figures
from .churn_warning_charts import lost_chart, risk_chart
from .churn_warning_filters import ChurnWarningFilter

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
    cf = ChurnWarningFilter(request.GET)
    context = {"filter": cf, "query": cf.query(), "period": cf.dates, "titles": TITLES}
    part = request.GET.get("part", "")
    if part not in PARTS:
        return render(request, "analytics/churn_warning.html", context)
    context.update(PARTS[part](cf), part=part, title=TITLES[part], panel=f"analytics/_churn_{part}.html")
    template = context["panel"] if request.htmx else "analytics/churn_warning_part.html"
    return render(request, template, context)
