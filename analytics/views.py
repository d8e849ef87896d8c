"""Closure analytics: dashboard, closure list, export.

All three read the same ClosureFilter from the query string, so they select the same rows.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.exports import FORMATS, wants_machine_names
from crm.permissions import require

from . import charts, cohorts, exports, figures, improvements, listing
from .filters import ClosureFilter


@require("closures.view_analytics")
def dashboard(request):
    fs = ClosureFilter(request.GET)
    numbers = figures.compute(fs)
    context = {
        "filter": fs,
        "figures": numbers,
        "charts": charts.build(numbers, fs),
        "query": fs.query(),
        "list_url": charts.list_url(fs),
        "cohorts": cohorts.cohort_table(fs, grain=request.GET.get("grain", "")),
    }
    context.update(improvements.for_dashboard(fs, context["charts"]["trend"]))
    return render(request, "analytics/dashboard.html", context)


@require("closures.view_analytics")
def closure_list(request):
    fs = ClosureFilter(request.GET)
    page = listing.closure_page(fs, sort=request.GET.get("o", ""), page=request.GET.get("page", 1))
    context = {"filter": fs, "page_obj": page, "closures": page.object_list, "query": fs.query(), "total": page.total}
    return render(request, "analytics/closure_list.html", context)


@require("closures.export_closures")
@require_POST
def export(request):
    """Export what the filters in the query string select: directly when small, else as a job."""
    fs = ClosureFilter(request.GET)
    fmt = request.POST.get("format", "")
    back = "analytics:closure_list" if request.POST.get("next") == "list" else "analytics:dashboard"
    if fmt not in FORMATS:
        messages.error(request, _("Choose Excel or CSV to export."))
        return redirect(f"{reverse(back)}?{request.GET.urlencode()}")
    if not fs.is_valid():
        messages.error(request, _("Correct the filters marked below before exporting."))
        return redirect(f"{reverse(back)}?{request.GET.urlencode()}")
    export = exports.ClosureExport(fs)
    export.machine_names = wants_machine_names(request.POST)
    if not export.runs_as_job(fmt):
        return export.respond(request, fmt)
    job = export.start_job(request.user, fmt)
    messages.info(request, _("This export is large, so it runs in the background. Its download link appears here."))
    return redirect("jobs:status", pk=job.pk)
