"""The customer card: view, create, edit, log interactions and purchases."""

from django.http import HttpResponse

from crm.permissions import require


@require("customers.add_customer")
def create(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("customers.view_customer")
def card(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("customers.change_customer")
def edit(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("customers.add_interaction")
def add_interaction(request, **kwargs):
    return HttpResponse("not built yet", status=501)


@require("customers.add_purchase")
def add_purchase(request, **kwargs):
    return HttpResponse("not built yet", status=501)
