"""Bulk closures (Manager, Admin): selected cards or a whole filtered result, up to 5,000.

Three steps: choose one action and one reason ("Continue"), read how many and which cards
("Confirm"), see what was done and what was skipped and why. The selection travels signed, so it
cannot be widened by hand between the steps; closures/bulk.py re-checks every card.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.permissions import require
from customers.filters import filtered_customers
from customers.models import Customer

from .. import tokens
from ..bulk import BULK_LIMIT, bulk_close
from ..forms import BulkForm
from ..models import Action


def _selected_ids(request) -> list[int]:
    """The cards to close: ticked in the search results, or the whole filtered result.

    ``?ids=1&ids=2`` or ``?ids=1,2`` for ticked rows; ``?all=1&<the search's own parameters>``
    for everything the search finds (read one past the limit, so a result too big is refused).
    """
    if request.GET.get("all"):
        params = request.GET.copy()
        for key in ("all", "ids", "page"):
            params.pop(key, None)
        _filterset, found = filtered_customers(params, request.user)
        return list(found.prefetch_related(None).order_by().values_list("pk", flat=True)[: BULK_LIMIT + 1])
    values = (v.strip() for item in request.GET.getlist("ids") for v in item.split(","))
    return list(dict.fromkeys(int(v) for v in values if v.isdigit()))


@require("closures.bulk_close")
def bulk(request):
    if request.method == "POST":
        form = BulkForm(request.POST)
        if form.is_valid():
            try:
                ids = tokens.read_selection(form.cleaned_data["selection"])
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("customers:search")
            return _confirm_page(request, ids, form.cleaned_data)
        count = None
    else:
        ids = _selected_ids(request)
        count = len(ids)
        form = BulkForm(initial={"selection": tokens.sign_selection(ids)}) if ids else None
    context = {"form": form, "count": count, "limit": BULK_LIMIT}
    return render(request, "closures/bulk.html", context)


def _confirm_page(request, ids: list[int], data: dict):
    customers = Customer.objects.filter(pk__in=ids).only("pk", "customer_no", "name", "status", "balance", "points")
    token = tokens.sign_bulk(
        {
            "ids": ids,
            "action": data["action"],
            "reason": data["reason"].pk,
            "notes": data["notes"],
            "settlement_note": data["settlement_note"],
        }
    )
    context = {
        "customers": customers.order_by("customer_no"),
        "count": len(ids),
        "action_label": Action(data["action"]).label,
        "reason": data["reason"],
        "notes": data["notes"],
        "settlement_note": data["settlement_note"],
        "token": token,
    }
    return render(request, "closures/bulk_confirm.html", context)


@require("closures.bulk_close")
@require_POST
def bulk_confirm(request):
    try:
        data = tokens.read_bulk(request.POST.get("token", ""))
        result = bulk_close(
            data["ids"],
            by=request.user,
            action=data["action"],
            reason=data["reason"],
            notes=data["notes"],
            settlement_note=data["settlement_note"],
            request=request,
        )
    except (ValidationError, KeyError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [_("This confirmation is not valid.")])))
        return redirect("customers:search")
    messages.success(
        request,
        _("%(done)s cards done, %(skipped)s skipped.") % {"done": len(result.done), "skipped": len(result.skipped)},
    )
    context = {"result": result, "action_label": Action(data["action"]).label}
    return render(request, "closures/bulk_result.html", context)
