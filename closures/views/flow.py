"""The closure flow: action, "Reason" and "Notes", "Continue" to the impact page, "Confirm"; reinstate.

Nothing changes before "Confirm". The impact page carries a signed token of what the user chose
and saw (closures/tokens.py); closures/operations.py (closures/erasure.py for "Delete") re-checks
it under a row lock, so a card changed in between, a retired reason or a second click is refused
with an explanation.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.permissions import require
from customers import merge
from customers.models import Customer

from .. import erasure, operations, settlement_form, tickets, tokens
from ..forms import ClosureConfirmForm, ClosureStartForm, ReinstateForm
from ..models import ACTION_STATUS, Action, Closure, ClosureReason, ClosureRequest
from ..rules import REINSTATABLE
from ..settlement import settled_entries

SUCCESS = {
    Action.CLOSE: gettext_lazy("Card %(number)s was closed."),
    Action.VOID: gettext_lazy("Record %(number)s was voided."),
    Action.ARCHIVE: gettext_lazy("Card %(number)s was archived."),
    Action.ERASE: gettext_lazy("The personal data of card %(number)s was deleted."),
}


def _action(request, action: str) -> str:
    """The action named in the URL: 404 when unknown, 403 for "Delete" without the Admin permission."""
    try:
        action = Action(action)
    except ValueError:
        raise Http404 from None
    if action == Action.ERASE and not request.user.has_perm("closures.erase_customer"):
        raise PermissionDenied
    return action.value


def _refusal(customer: Customer, action: str) -> str:
    """Why this card cannot start this action now ("" when it can)."""
    if customer.is_erased:
        return _("This card's personal data has been deleted; nothing more can be done with it.")
    if action != Action.ERASE and not customer.is_active:
        return _("Card %(number)s is %(status)s, not active: it cannot be closed, voided or archived.") % {
            "number": customer.customer_no,
            "status": customer.get_status_display().lower(),
        }
    return ""


def _money(preview: tokens.Preview) -> bool:
    """Whether confirming asks how the balance and points are settled (an archived card that kept
    its balance settles it when erased; not for a merge: its transfer to the surviving card settles them)."""
    seen = preview.seen
    return not preview.merge and seen.status != Customer.Status.ERASED and (seen.balance > 0 or seen.points > 0)


def _asks_tickets(request, customer: Customer, preview: tokens.Preview) -> bool:
    """Whether confirming asks what happens to the open tickets (closures/tickets.py): not when a
    duplicate's tickets move to the surviving card, nor for a request (they stay open), nor for "Delete"."""
    if not preview.open_tickets or preview.action == Action.ERASE or preview.duplicate_of_id:
        return False
    return not operations.approval_needed(customer, request.user)


def _confirm_form(request, customer, preview, data=None, initial=None):
    return ClosureConfirmForm(
        data,
        initial=initial,
        customer=customer,
        action=preview.action,
        money=_money(preview),
        tickets=_asks_tickets(request, customer, preview),
    )


def _confirm_page(request, customer: Customer, preview: tokens.Preview, form):
    action = preview.action
    duplicate_of = Customer.objects.filter(pk=preview.duplicate_of_id).first()
    context = {
        "customer": customer,
        "action": action,
        "action_label": Action(action).label,
        "preview": preview,
        "reason": get_object_or_404(ClosureReason, pk=preview.reason_id),
        "duplicate_of": duplicate_of,
        "merge_plan": merge.plan(customer, duplicate_of) if preview.merge and duplicate_of else None,
        "old_status": Customer.Status(preview.seen.status).label,
        "new_status": Customer.Status(ACTION_STATUS[action]).label,
        "new_status_code": ACTION_STATUS[action].value,
        "money": _money(preview),
        "needs_approval": action != Action.ERASE and operations.approval_needed(customer, request.user),
        "open_closure": Closure.objects.open().filter(customer=customer).select_related("reason").first(),
        "open_tickets": tickets.listed(preview.open_tickets) if action != Action.ERASE else [],
        "moving_tickets": tickets.count_all(customer) if duplicate_of else 0,
        "form": form,
    }
    return render(request, "closures/closure_confirm.html", context)


@require("closures.add_closure")
def start(request, pk: int, action: str):
    action = _action(request, action)
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    refusal = _refusal(customer, action)
    if refusal:
        messages.error(request, refusal)
        return redirect("customers:card", pk=customer.pk)
    form = ClosureStartForm(request.POST or None, customer=customer, action=action)
    if request.method == "POST" and form.is_valid():
        survivor = form.cleaned_data.get("duplicate_of")
        preview = tokens.Preview.new(
            customer,
            action=action,
            reason_id=form.cleaned_data["reason"].pk,
            notes=form.cleaned_data["notes"],
            duplicate_of_id=survivor.pk if survivor else None,
            merge=form.cleaned_data.get("merge", False),
        )
        confirm_form = _confirm_form(request, customer, preview, initial={"token": tokens.sign_preview(preview)})
        return _confirm_page(request, customer, preview, confirm_form)
    context = {"customer": customer, "action": action, "action_label": Action(action).label, "form": form}
    return render(request, "closures/closure_start.html", context)


@require("closures.add_closure")
def confirm(request, pk: int, action: str):
    action = _action(request, action)
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if request.method != "POST":
        return redirect("closures:start", pk=customer.pk, action=action)
    try:
        preview = tokens.read_preview(request.POST.get("token", ""), customer_id=customer.pk, action=action)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("closures:start", pk=customer.pk, action=action)
    form = _confirm_form(request, customer, preview, data=request.POST)
    if not form.is_valid():
        return _confirm_page(request, customer, preview, form)
    return _performed(request, customer, preview, form.cleaned_data)


def _performed(request, customer: Customer, preview: tokens.Preview, data: dict):
    """Hand the confirmed choice to the one operation that does it; say what happened on the card."""
    money = settlement_form.settled(data) if "settlement" in data else {}
    choice = preview.choice(
        settlement_note=data.get("settlement_note") or "",
        tickets=data.get("open_tickets") or "",
        tickets_note=data.get("tickets_note") or "",
        **money,
    )
    try:
        if preview.action == Action.ERASE:
            outcome = erasure.erase_customer(
                customer, choice, by=request.user, confirmation=data["confirmation"], request=request
            )
        else:
            outcome = operations.confirm_closure(customer, choice, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if isinstance(outcome, ClosureRequest):
            messages.success(request, _("Your request was sent to a Manager for approval; the card stays active."))
        else:
            messages.success(request, str(SUCCESS[preview.action]) % {"number": customer.customer_no})
    return redirect("customers:card", pk=customer.pk)


@require("closures.reinstate_closure")
def reinstate(request, pk: int):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if customer.status not in REINSTATABLE:
        messages.error(request, _refusal(customer, Action.ERASE) or _("This card is already active."))
        return redirect("customers:card", pk=customer.pk)
    form = ReinstateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            operations.reinstate(customer, by=request.user, note=form.cleaned_data["note"], request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Card %(number)s is active again.") % {"number": customer.customer_no})
        return redirect("customers:card", pk=customer.pk)
    closure = Closure.objects.open().filter(customer=customer).select_related("reason", "performed_by").first()
    context = {"customer": customer, "closure": closure, "form": form, "settled": settled_entries(closure)}
    return render(request, "closures/reinstate.html", context)
