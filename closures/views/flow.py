"""The closure flow: action, reason and notes, impact preview, confirm; reinstate."""

from django.http import HttpResponse

from crm.permissions import require


@require("closures.add_closure")
def start(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("closures.add_closure")
def confirm(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("closures.reinstate_closure")
def reinstate(request, **kwargs):
    return HttpResponse("not built yet", status=501)
