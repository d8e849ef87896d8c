"""The audit log page (Manager, Admin)."""

from django.http import HttpResponse

from crm.permissions import require


@require("crm.view_auditentry")
def audit_log(request, **kwargs):
    return HttpResponse("not built yet", status=501)
