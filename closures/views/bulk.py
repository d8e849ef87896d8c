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
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm import scopes
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
    for everything the search finds (read one past the limit, so a result too big is refused). The
    result page's "retry" posts the skipped cards' ids the same way (in the body: up to 5,000 ids
    would not fit in a URL); like ticked rows, they are only the start of a new preview.
    """
    if request.method == "POST":
        values = (v.strip() for item in request.POST.getlist("ids") for v in item.split(","))
        return _visible(request, values)
    if request.GET.get("all"):
        params = request.GET.copy()
        for key in ("all", "ids", "page"):
            params.pop(key, None)
        _filterset, found = filtered_customers(params, request.user)
        return list(found.prefetch_related(None).order_by().values_list("pk", flat=True)[: BULK_LIMIT + 1])
    values = (v.strip() for item in request.GET.getlist("ids") for v in item.split(","))
    return _visible(request, values)


def _visible(request, values) -> list[int]:
    """The ids given, in their order, that name a card the user's data scope shows (crm/scopes.py)."""
    ids = list(dict.fromkeys(int(v) for v in values if v.isdigit() and len(v) <= 18))
    if not scopes.is_scoped(request.user):
        return ids
    shown = set(Customer.objects.visible_to(request.user).filter(pk__in=ids).values_list("pk", flat=True))
    return [pk for pk in ids if pk in shown]


@require("closures.bulk_close")
def bulk(request):
    """Choose the action and the reason for the selection (GET: from the search; POST "retry": the
    cards a bulk closure skipped, from its result page; POST: the chosen reason, to the preview)."""
    if request.method != "POST" or request.POST.get("retry"):
        return _start(request)
    try:
        ids = tokens.read_selection(request.POST.get("selection", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:search")
    form = BulkForm(request.POST, money=_money(ids))
    if form.is_valid():
        return _confirm_page(request, ids, form.cleaned_data)
    return _chooser(request, form, ids)


def _start(request):
    """The first step, unbound: the selection signed for the next steps; a retry starts from the
    action, reason and notes the skipped run used."""
    ids = _selected_ids(request)
    initial = {"selection": tokens.sign_selection(ids)}
    if request.method == "POST":
        initial.update(choice=request.POST.get("choice", ""), notes=request.POST.get("notes", ""))
    form = BulkForm(initial=initial, money=_money(ids)) if ids else None
    return _chooser(request, form, ids)


def _chooser(request, form, ids: list[int], *, problem: str = ""):
    """The first step (and the step that asks again): the selection's count, the action and reason."""
    context = {"form": form, "count": len(ids), "limit": BULK_LIMIT, "problem": problem}
    return render(request, "closures/bulk.html", context)


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
    cards = Customer.objects.visible_to(request.user).filter(pk__in=ids)
    customers = list(cards.only(*fields).order_by("customer_no"))
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
    """Close the previewed cards. A result with skipped cards (or none done) is a warning that lists
    why, grouped, with the skipped cards signed for another try; a refusal of the whole selection
    that a new choice can mend (a reason retired since the preview) asks again for the same cards."""
    try:
        choice = tokens.read_bulk(request.POST.get("token", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:search")
    try:
        result = bulk_close(list(choice.seen), choice, by=request.user, request=request)
    except ValidationError as exc:
        if getattr(exc, "code", None) in ("already", "permission", "limit"):
            messages.error(request, " ".join(exc.messages))
            return redirect("customers:search")
        return _ask_again(request, choice, " ".join(exc.messages))
    return _result_page(request, choice, result)


def _result_page(request, choice: ClosureChoice, result):
    done, skipped = len(result.done), len(result.skipped)
    summary = _("%(done)s, %(skipped)s.") % {
        "done": ngettext("%(count)s card done", "%(count)s cards done", done) % {"count": done},
        "skipped": ngettext("%(count)s skipped", "%(count)s skipped", skipped) % {"count": skipped},
    }
    (messages.warning if result.needs_attention else messages.success)(request, summary)
    context = {
        "result": result,
        "action_label": Action(choice.action).label,
        "count": len(choice.seen),
        "choice": choice,
        "retry": ",".join(str(pk) for pk in result.retryable_ids),
    }
    return render(request, "closures/bulk_result.html", context)


def _ask_again(request, choice: ClosureChoice, problem: str):
    ids = sorted(choice.seen)
    initial = {"selection": tokens.sign_selection(ids), "choice": f"{choice.action}:{choice.reason_id}"}
    form = BulkForm(initial={**initial, "notes": choice.notes}, money=_money(ids))
    return _chooser(request, form, ids, problem=problem)
