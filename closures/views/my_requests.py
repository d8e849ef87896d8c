"""The requester's own closure requests: pending, approved, rejected and withdrawn, newest first, with
"Withdraw" while one is pending (operations.withdraw)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import scopes
from crm.pagination import page_of
from crm.permissions import require

from .. import operations
from ..models import ClosureRequest


@require("closures.add_closure")
def my_requests(request):
    mine = (
        scopes.visible(ClosureRequest.objects.filter(requested_by=request.user), request.user)
        .select_related("customer", "reason", "decided_by")
        .order_by("-requested_at", "-id")
    )
    return render(request, "closures/my_requests.html", {"page_obj": page_of(request, mine, per_page=25)})


@require("closures.add_closure")
@require_POST
def withdraw(request, pk: int):
    """Withdraw one's own pending request; anyone else's, or a decided one, is refused with the reason."""
    get_object_or_404(scopes.visible(ClosureRequest.objects.all(), request.user), pk=pk)
    try:
        withdrawn = operations.withdraw(pk, by=request.user, note=request.POST.get("note", ""), request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        number = withdrawn.customer.customer_no
        messages.success(request, _("Request withdrawn: card %(number)s stays as it is.") % {"number": number})
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)  # the card the request was withdrawn from
    return redirect("closures:my_requests")
