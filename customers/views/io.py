"""Import and export of customers (Admin)."""

from django.http import HttpResponse

from crm.permissions import require


@require("customers.export_customers")
def export(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("customers.import_customers")
def import_upload(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("customers.import_customers")
def import_template(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("customers.import_customers")
def import_confirm(request, **kwargs):
    return HttpResponse("not built yet", status=501)
