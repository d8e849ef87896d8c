"""The Manager's approval queue: pending Staff closures, approved or rejected with a note, one by one
or several at once (the ticked ones, with one note: closures/batch.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import scopes
from crm.pagination import page_of
from crm.permissions import require
from customers import merge

from .. import operations
from ..batch import decide_many
from ..forms import BatchDecisionForm, DecisionForm
from ..models import ACTION_STATUS, ClosureRequest


@require("closures.view_closurerequest")
def queue(request):
    return _queue_page(request, BatchDecisionForm())


def _queue_page(request, form: BatchDecisionForm, status: int = 200):
    pending = (
        scopes.visible(ClosureRequest.objects.filter(state=ClosureRequest.State.PENDING), request.user)
        .select_related("customer", "reason", "requested_by")
        .order_by("requested_at", "id")
    )
    ticked = set(getattr(form, "cleaned_data", {}).get("ids") or [])  # kept ticked when the form comes back
    context = {"page_obj": page_of(request, pending, per_page=50), "form": form, "ticked": ticked}
    return render(request, "closures/request_queue.html", context, status=status)


@require("closures.decide_closurerequest")
@require_POST
def batch(request):
    """Approve or reject the ticked requests with one note; the result lists what was decided and refused."""
    form = BatchDecisionForm(request.POST)
    if not form.is_valid():
        return _queue_page(request, form)
    approving = form.cleaned_data["decision"] == "approve"
    try:
        result = decide_many(
            form.cleaned_data["ids"],
            by=request.user,
            approving=approving,
            note=form.cleaned_data["note"],
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("closures:request_queue")
    if result.refused:
        messages.warning(request, _("Some requests were not decided: see why below."))
    elif result.decided:
        messages.success(request, _("Every ticked request was decided."))
    return render(request, "closures/request_batch_result.html", {"result": result})


@require("closures.decide_closurerequest")
def decide(request, pk: int):
    related = ("customer", "reason", "requested_by", "decided_by", "duplicate_of")
    closure_request = get_object_or_404(
        scopes.visible(ClosureRequest.objects.select_related(*related), request.user), pk=pk
    )
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _decided(request, closure_request, approving=form.cleaned_data["decision"] == "approve", form=form)
    pending_merge = closure_request.merge and closure_request.state == ClosureRequest.State.PENDING
    context = {
        "req": closure_request,
        "customer": closure_request.customer,
        "merge_plan": merge.plan(closure_request.customer, closure_request.duplicate_of) if pending_merge else None,
        "new_status": ACTION_STATUS[closure_request.action].label,
        "new_status_code": ACTION_STATUS[closure_request.action].value,
        "form": form,
    }
    return render(request, "closures/request_decide.html", context)


def _decided(request, closure_request: ClosureRequest, *, approving: bool, form):
    """Approve or reject through the operation; back to the request when it is refused, to the queue when done."""
    operation = operations.approve if approving else operations.reject
    try:
        operation(closure_request, by=request.user, note=form.cleaned_data["note"], request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("closures:request_decide", pk=closure_request.pk)
    number = closure_request.customer.customer_no
    if approving:
        messages.success(request, _("Approved: card %(number)s was closed.") % {"number": number})
    else:
        messages.success(request, _("Rejected: card %(number)s stays active.") % {"number": number})
    return redirect("closures:request_queue")
