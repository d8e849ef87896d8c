"""Closure analytics: dashboard, closure list, export."""

from django.http import HttpResponse

from crm.permissions import require


@require("closures.view_analytics")
def dashboard(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("closures.view_analytics")
def closure_list(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("closures.export_closures")
def export(request, **kwargs):
    return HttpResponse("not built yet", status=501)
