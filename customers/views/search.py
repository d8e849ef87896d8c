"""Search: the staff home page."""

from django.http import HttpResponse

from crm.permissions import require


@require("customers.view_customer")
def search(request, **kwargs):
    return HttpResponse("not built yet", status=501)
