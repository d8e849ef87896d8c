"""Bulk closures (Manager, Admin): selected cards or a whole filtered result, up to 5,000.

Three steps: choose one action and one reason ("Continue"), read how many and which cards
("Confirm"), see what was done and what was skipped and why. The selection travels signed, so it
cannot be widened by hand between the steps; the confirmation carries a nonce and each listed
card's version, and closures/bulk.py re-checks every card with the single-card flow's rules.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.permissions import require
from customers.filters import filtered_customers
from customers.models import Customer

from .. import rules, settlement, tokens
from ..bulk import BULK_LIMIT, bulk_close
from ..forms import BulkForm
from ..models import Action, ClosureSettings
from ..rules import ClosureChoice


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
    if request.method != "POST":
        ids = _selected_ids(request)
        form = BulkForm(initial={"selection": tokens.sign_selection(ids)}, money=_money(ids)) if ids else None
        return render(request, "closures/bulk.html", {"form": form, "count": len(ids), "limit": BULK_LIMIT})
    try:
        ids = tokens.read_selection(request.POST.get("selection", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:search")
    form = BulkForm(request.POST, money=_money(ids))
    if form.is_valid():
        return _confirm_page(request, ids, form.cleaned_data)
    return render(request, "closures/bulk.html", {"form": form, "count": len(ids), "limit": BULK_LIMIT})


def _money(ids: list[int]) -> int:
    """How many of the cards are active with a balance or points (the form asks how they are settled)."""
    if len(ids) > BULK_LIMIT:
        return 0
    active = Customer.objects.filter(pk__in=ids, status=Customer.Status.ACTIVE)
    return active.filter(Q(balance__gt=0) | Q(points__gt=0)).count()


def _to_settle(active: list[Customer]) -> dict:
    """What the confirmation settles across the active cards with money: how many, the balance, the points."""
    cards = [c for c in active if c.balance > 0 or c.points > 0]
    return {"count": len(cards), "balance": sum((c.balance for c in cards), 0), "points": sum(c.points for c in cards)}


def _confirm_page(request, ids: list[int], data: dict):
    """The cards as they are now, and the token that carries the choice and what this page shows."""
    fields = ("pk", "customer_no", "name", "status", "balance", "points", "segment", "updated_at")
    customers = list(Customer.objects.filter(pk__in=ids).only(*fields).order_by("customer_no"))
    choice = ClosureChoice(
        action=data["action"],
        reason=data["reason"].pk,
        notes=data["notes"],
        settlement_note=data.get("settlement_note") or "",
        seen={c.pk: rules.version(c) for c in customers},
        nonce=tokens.new_nonce(),
        settlement=data.get("settlement") or "",
        settlement_method=data.get("settlement_method") or "",
        forfeit_reason=(data.get("forfeit_reason") or "").strip(),
    )
    active = [c for c in customers if c.is_active]
    settings = ClosureSettings.load()
    context = {
        "customers": customers,
        "count": len(ids),
        "action_label": Action(data["action"]).label,
        "reason": data["reason"],
        "choice": choice,
        "money": _to_settle(active),
        "settled": settlement.words(choice.settlement, choice.settlement_method),
        "approval": sum(1 for c in active if rules.approval_needed(c, request.user, settings)),
        "token": tokens.sign_bulk(choice),
    }
    return render(request, "closures/bulk_confirm.html", context)


@require("closures.bulk_close")
@require_POST
def bulk_confirm(request):
    try:
        choice = tokens.read_bulk(request.POST.get("token", ""))
        result = bulk_close(list(choice.seen), choice, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:search")
    messages.success(
        request,
        _("%(done)s cards done, %(skipped)s skipped.") % {"done": len(result.done), "skipped": len(result.skipped)},
    )
    context = {"result": result, "action_label": Action(choice.action).label}
    return render(request, "closures/bulk_result.html", context)
