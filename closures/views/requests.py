"""The Manager's approval queue."""

from django.http import HttpResponse

from crm.permissions import require


@require("closures.view_closurerequest")
def queue(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("closures.decide_closurerequest")
def decide(request, **kwargs):
    return HttpResponse("not built yet", status=501)
