"""The service dashboard (处理单 analytics) and its export; the closure dashboard's service part.

The dashboard's key figures and charts come from the summary (analytics/service.py); the
churn-after-service panel reads tickets and closures and comes after the page by htmx
(``?part=churn``), or as a page of its own without JavaScript.

Export: the service figures as .xlsx sheets (analytics/service_sheets.py). Who may export: those who
see the dashboard *and* may export tickets (service.export_tickets: Admins), the same rule as the
closure analytics export (Admins): the figures are aggregates, but the export leaves the building.
The closure analytics export carries the same sheets for its period.
"""

import io

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import audit
from crm.permissions import require

from . import service as service_figures
from . import service_charts, service_churn, service_sheets
from .service_filters import ServiceFilter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require("service.view_service_analytics")
def service(request):
    sf = ServiceFilter(request.GET, user=request.user)
    if request.GET.get("part") == "churn":
        context = {"filter": sf, "query": sf.query(), "churn": service_churn.compute(sf)}
        template = "analytics/_service_churn.html" if request.htmx else "analytics/service_churn.html"
        return render(request, template, context)
    labels = {"opened_label": _("Tickets opened"), "backlog_label": _("Open tickets")}
    context = service_charts.context(service_figures.compute(sf), sf, **labels)
    return render(request, "analytics/service.html", context)


@require("service.view_service_analytics", "service.export_tickets")
@require_POST
def service_export(request):
    """The service figures for the filters in the query string, as an .xlsx (a few hundred rows:
    written in the request)."""
    sf = ServiceFilter(request.GET, user=request.user)
    out = io.BytesIO()
    service_sheets.write_workbook(out, sf)
    audit.record("service.analytics_export", actor=request.user, request=request, data={"filters": sf.params()})
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    name = f"service-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
