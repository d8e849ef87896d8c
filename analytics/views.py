"""Closure analytics: dashboard, closure list, export.

All three read the same ClosureFilter from the query string, so they select the same rows.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.exports import FORMATS, wants_machine_names
from crm.permissions import require
from crm.routers import reporting_db

from . import charts, cohorts, exports, figures, followup_labels, improvements, listing, service_closures, service_links
from . import followups as followup_figures
from .filters import ClosureFilter


@require("closures.view_analytics")
def dashboard(request):
    fs = ClosureFilter(request.GET, user=request.user)
    if request.GET.get("part") == "followups":
        return _followup_panels(request, fs)
    if request.GET.get("part") == "improvements":
        return _improvement_panel(request, fs)
    if request.GET.get("part") == "service":
        return _service_panel(request, fs)
    numbers = figures.compute(fs)
    context = {
        "filter": fs,
        "figures": numbers,
        "charts": charts.build(numbers, fs),
        "query": fs.query(),
        "list_url": charts.list_url(fs),
        "cohorts": cohorts.cohort_table(fs, grain=request.GET.get("grain", "")),
    }
    context["improvement_marks"] = improvements.marks(context["charts"]["trend"], fs)
    return render(request, "analytics/dashboard.html", context)


def _improvement_panel(request, fs):
    """The improvement actions' before/after rates, for the same filters: loaded by htmx after the
    dashboard (about 90 ms of counting at a million cards, which the key figures do not wait for);
    without JavaScript the dashboard links to it as a page of its own."""
    context = {"filter": fs, "query": fs.query(), "improvements": improvements.compare(fs)}
    if request.htmx:
        return render(request, "analytics/_improvements.html", {**context, "panel": context["improvements"]})
    return render(request, "analytics/improvement_figures.html", context)


def _followup_panels(request, fs):
    """What the follow-ups tell, for the same filters: the dashboard loads it by htmx after the
    page (three queries over the follow-up summary and its activity tally, 60 to 100 ms of database
    time at a million cards on a busy machine: analytics/followups.py), so the key figures do not
    wait for it; without JavaScript the dashboard links to it as a page of its own."""
    context = {"filter": fs, "query": fs.query(), "followups": followup_figures.compute(fs)}
    if request.htmx:
        return render(request, "analytics/_followup_panels.html", context)
    return render(request, "analytics/followup_figures.html", context)


def _service_panel(request, fs):
    """Closures with a service reason whose customer's last ticket missed its SLA (one index probe
    per service closure): loaded by htmx after the dashboard; a page of its own without JavaScript."""
    context = {"filter": fs, "query": fs.query(), "service": service_closures.compute(fs)}
    context["breached_url"] = charts.list_url(fs, category="service", svc="breached")
    template = "analytics/_service_closures.html" if request.htmx else "analytics/service_closures.html"
    return render(request, template, context)


@require("closures.view_analytics")
def closure_list(request):
    own = request.GET.get(followup_labels.OWN_PARAM, "")
    narrowed, by_service = listing.drill_down(request.GET, using=reporting_db())
    fs = ClosureFilter(request.GET, user=request.user, **({} if narrowed is None else {"queryset": narrowed}))
    page = listing.closure_page(fs, sort=request.GET.get("o", ""), page=request.GET.get("page", 1))
    context = {"filter": fs, "page_obj": page, "closures": page.object_list, "query": fs.query(), "total": page.total}
    context["export_query"] = urlencode({**fs.params(), **listing.drill_params(request.GET)})
    if own and followup_labels.own_reason_closures(own, using=reporting_db()) is not None:
        context["own_reason"] = followup_labels.own_reason_text(own, using=reporting_db())
    if by_service:
        context["service_narrowing"] = service_links.describe(request.GET, using=reporting_db())
    return render(request, "analytics/closure_list.html", context)


@require("closures.export_closures")
@require_POST
def export(request):
    """Export what the filters (and a drill-down of the list) in the query string select: directly
    when small, else as a job."""
    drill = listing.drill_params(request.GET)
    narrowed, _by_service = listing.drill_down(drill, using=reporting_db())
    fs = ClosureFilter(request.GET, user=request.user, **({} if narrowed is None else {"queryset": narrowed}))
    fmt = request.POST.get("format", "")
    back = "analytics:closure_list" if request.POST.get("next") == "list" else "analytics:dashboard"
    if fmt not in FORMATS:
        messages.error(request, _("Choose Excel or CSV to export."))
        return redirect(f"{reverse(back)}?{request.GET.urlencode()}")
    if not fs.is_valid():
        messages.error(request, _("Correct the filters marked below before exporting."))
        return redirect(f"{reverse(back)}?{request.GET.urlencode()}")
    export = exports.ClosureExport(fs, drill=drill)
    export.machine_names = wants_machine_names(request.POST)
    if not export.runs_as_job(fmt):
        return export.respond(request, fmt)
    job = export.start_job(request.user, fmt)
    messages.info(request, _("This export is large, so it runs in the background. Its download link appears here."))
    return redirect("jobs:status", pk=job.pk)
