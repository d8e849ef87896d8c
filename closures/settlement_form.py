"""The settlement fields of the closure forms: how a balance and points are settled.

One card's confirmation page (closures.forms.ClosureConfirmForm) asks refund (method, amount),
transfer (the receiving card's number), forfeit (why) or, when archiving, keep; a bulk closure
(closures.forms.BulkForm) asks refund (method) or forfeit (why), never a transfer. The rules are
closures/settlement.py's, checked here against the card to put each message next to its field,
and checked again by the operation under the lock.
"""

from __future__ import annotations

from types import SimpleNamespace

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, LedgerEntry
from customers.numbers import normalise_customer_no

from . import settlement
from .models import Settlement

# Which field each rule's refusal belongs next to (closures/settlement.py's codes).
FIELD_OF_CODE = {
    "balance": "settlement",
    "keep": "settlement",
    "method": "settlement_method",
    "refund_amount": "refund_amount",
    "forfeit_reason": "forfeit_reason",
    "settle_to": "settle_to",
}
NO_BULK_SETTLEMENT = _(
    "Some of these cards hold a balance or points: choose how they are settled (refunded or forfeited); "
    "nothing is settled without your choice."
)
SETTLEMENT_FIELDS = ("settlement", "settlement_method", "refund_amount", "settle_to", "forfeit_reason")


def add_settlement_fields(form: forms.Form, *, action: str, bulk: bool = False) -> None:
    """Add the settlement fields to ``form`` (before its settlement note, if it has one)."""
    choices = [(value, label) for value, label in Settlement.choices if value != Settlement.KEEP or action == "archive"]
    if bulk:
        choices = [(value, label) for value, label in choices if value != Settlement.TRANSFER]
    fields = {
        "settlement": forms.ChoiceField(
            label=_("How is the balance settled?"), choices=choices, required=False, widget=forms.RadioSelect
        ),
        "settlement_method": forms.ChoiceField(
            label=_("Refund method"),
            choices=[("", _("Choose…")), *[(v, label) for v, label in LedgerEntry.Method.choices if v]],
            required=False,
        ),
        "refund_amount": forms.DecimalField(
            label=_("Amount refunded"),
            required=False,
            max_digits=12,
            decimal_places=2,
            min_value=0,
            help_text=_("Empty: the whole balance. Less than the balance: the rest is forfeited, and you write why."),
        ),
        "settle_to": forms.CharField(
            label=_("Transfer to card (customer number)"),
            required=False,
            max_length=32,
            help_text=_("An active card; the balance and points move to it."),
        ),
        "forfeit_reason": forms.CharField(
            label=_("Why forfeited"),
            required=False,
            max_length=settlement.MAX_REASON,
            help_text=_("Required when forfeiting, or when refunding less than the balance."),
        ),
    }
    if bulk:
        del fields["refund_amount"], fields["settle_to"]
    note = form.fields.pop("settlement_note", None)
    form.fields.update(fields)
    if note is not None:
        note.label = _("Settlement note (optional)")
        note.help_text = _("Anything else about the settlement, for the closure's record.")
        form.fields["settlement_note"] = note


def clean_settlement(form: forms.Form, cleaned: dict, card: Customer | None, *, action: str) -> None:
    """Check the settlement against ``card`` (its balance and points now) and put each refusal next to
    its field; ``cleaned["settle_to"]`` becomes the receiving Customer. ``card`` None: a bulk closure,
    checked against a card holding both money and points."""
    target = None
    number = normalise_customer_no(cleaned.get("settle_to") or "")
    if cleaned.get("settlement") == Settlement.TRANSFER and number:
        target = Customer.objects.filter(customer_no=number).first()
        if target is None:
            form.add_error("settle_to", _("No card has the customer number %(number)s.") % {"number": number})
            return
    cleaned["settle_to"] = target
    choice = SimpleNamespace(
        action=action,
        settlement=cleaned.get("settlement") or "",
        settlement_method=cleaned.get("settlement_method") or "",
        refund_amount=cleaned.get("refund_amount"),
        settle_to_id=target.pk if target else None,
        forfeit_reason=cleaned.get("forfeit_reason") or "",
        settlement_note="",
    )
    if card is None:  # bulk: every card refunded in full or forfeited
        if not choice.settlement:
            form.add_error("settlement", NO_BULK_SETTLEMENT)
            return
        card = SimpleNamespace(pk=0, balance=1, points=1)
    try:
        settlement.check(card, choice, target)
    except ValidationError as exc:
        field = FIELD_OF_CODE.get(exc.code, "settlement")
        form.add_error(field if field in form.fields else None, exc.messages[0])


def settled(cleaned: dict) -> dict:
    """The settlement as ClosureChoice's keyword arguments."""
    values = {name: cleaned.get(name) for name in SETTLEMENT_FIELDS}
    values["settlement"] = values["settlement"] or ""
    values["settlement_method"] = values["settlement_method"] or ""
    values["forfeit_reason"] = (values["forfeit_reason"] or "").strip()
    return values
