"""Bulk closures (Manager, Admin)."""

from django.http import HttpResponse

from crm.permissions import require


@require("closures.bulk_close")
def bulk(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("closures.bulk_close")
def bulk_confirm(request, **kwargs):
    return HttpResponse("not built yet", status=501)
