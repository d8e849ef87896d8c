"""Reason management and closure settings (Admin)."""

from django.http import HttpResponse

from crm.permissions import require


@require("closures.change_closurereason")
def reason_list(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("closures.add_closurereason")
def reason_create(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("closures.change_closurereason")
def reason_edit(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("closures.change_closuresettings")
def closure_settings(request, **kwargs):
    return HttpResponse("not built yet", status=501)
