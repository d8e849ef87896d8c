"""Settling a card's money when it is closed, voided, archived or erased: the one place that decides
what happens to its stored-value balance and loyalty points.

A card with a balance or points is closed only with a settlement chosen (``ClosureChoice.settlement``):

- **refund** (退款): ``settlement_method`` says how it is paid (customers.models.LedgerEntry.Method);
  ``refund_amount`` is the whole balance unless less is given, and then the rest is forfeited,
  which needs ``forfeit_reason``. Refunds are money: the points of a refunded card are forfeited
  with it (transfer the card instead to keep them).
- **transfer**: the whole balance and points go to another active card (``settle_to``, locked with
  this one in primary-key order by closures.rules.guarded).
- **forfeit** (作废清零): balance and points are written off; ``forfeit_reason`` says why.
- **keep**: archive only; the archived card keeps its balance and points (erasing it later
  settles them).

    check(locked, choice, target) -> None         the rules; ValidationError with a readable message
    settle(locked, choice, target, *, by, request=None) -> dict
        writes the ledger entries (customers.ledger) on the locked card(s) and returns the closure's
        settlement fields (closures.models.Settled)
    words(settlement, method, settled_to_no) -> str   "refunded, cash", "transferred to C000124", …
    settled_entries(closure) -> list[(LedgerEntry, str)] the entries a closure's settlement wrote, in words

Nothing is written by ``check``; ``settle`` runs inside the closure's transaction, before the status
changes. The entries make the settlement final: reinstating a card brings none of it back.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from crm.formatting import money
from customers import ledger
from customers.models import Customer, LedgerEntry

from .models import Action, Settlement

Kind = LedgerEntry.Kind
METHODS = {value for value, _label in LedgerEntry.Method.choices if value}
MAX_REASON = 500


def has_money(card: Customer) -> bool:
    return card.balance > 0 or card.points > 0


def refund_amount(locked: Customer, choice) -> Decimal:
    """The amount refunded: the one typed, or the whole balance."""
    if choice.refund_amount is None or choice.refund_amount == "":
        return locked.balance
    return Decimal(choice.refund_amount).quantize(ledger.CENT)


def check(locked: Customer, choice, target: Customer | None) -> None:
    """A card with money needs a settlement that fits it; a card without money needs none."""
    if not has_money(locked):
        return
    how = choice.settlement
    figures = {"balance": money(locked.balance), "points": locked.points}
    if how not in Settlement.values:
        raise ValidationError(
            _(
                "This card still has a balance of %(balance)s and %(points)s points: choose how they are "
                "settled (refunded, transferred to another card or forfeited)."
            )
            % figures,
            code="balance",
        )
    if len(choice.forfeit_reason or "") > MAX_REASON:
        raise ValidationError(_("Write why in at most 500 characters."), code="forfeit_reason")
    if how == Settlement.KEEP and choice.action != Action.ARCHIVE:
        raise ValidationError(
            _("Only an archived card may keep its balance; choose a refund, a transfer or forfeiting."),
            code="keep",
        )
    if how == Settlement.REFUND:
        _check_refund(locked, choice)
    elif how == Settlement.FORFEIT and not (choice.forfeit_reason or "").strip():
        raise ValidationError(_("Write why the balance and points are forfeited."), code="forfeit_reason")
    elif how == Settlement.TRANSFER:
        _check_transfer(locked, choice, target)


def _check_refund(locked: Customer, choice) -> None:
    if choice.settlement_method not in METHODS:
        raise ValidationError(_("Choose how the refund is paid."), code="method")
    try:
        amount = refund_amount(locked, choice)
    except ArithmeticError:
        raise ValidationError(_("Enter the amount as a number, such as 120.50."), code="refund_amount") from None
    if locked.balance <= 0:
        raise ValidationError(
            _("The card holds no money to refund, only points: forfeit them or transfer them to another card."),
            code="refund_amount",
        )
    if amount <= 0 or amount > locked.balance:
        raise ValidationError(
            _("Refund more than 0.00 and at most the balance, %(balance)s.") % {"balance": money(locked.balance)},
            code="refund_amount",
        )
    if amount < locked.balance and not (choice.forfeit_reason or "").strip():
        raise ValidationError(
            _("Only %(amount)s of %(balance)s is refunded: write why the rest, %(rest)s, is forfeited.")
            % {"amount": money(amount), "balance": money(locked.balance), "rest": money(locked.balance - amount)},
            code="forfeit_reason",
        )


def _check_transfer(locked: Customer, choice, target: Customer | None) -> None:
    if not choice.settle_to_id:
        raise ValidationError(_("Give the customer number of the card that receives the balance."), code="settle_to")
    if choice.settle_to_id == locked.pk:
        raise ValidationError(_("A card cannot transfer its balance to itself."), code="settle_to")
    if target is None:
        raise ValidationError(
            _("The receiving card no longer exists; nothing was changed. Choose an active card."), code="settle_to"
        )
    if not target.is_active:
        raise ValidationError(
            _("Card %(number)s is %(status)s, not active; it cannot receive the balance. Nothing was changed.")
            % {"number": target.customer_no, "status": target.get_status_display().lower()},
            code="settle_to",
        )


def settle(locked: Customer, choice, target: Customer | None, *, by, request=None) -> dict:
    """Write the settlement's ledger entries on the locked card (and the locked receiving card).

    Returns the closure's settlement fields. Call :func:`check` first; a card without money, or
    one archived keeping its money, gets no entry.
    """
    if not has_money(locked):
        return {}
    how, note = choice.settlement, (choice.forfeit_reason or "").strip()
    balance, points = locked.balance, locked.points
    fields = {"settlement": how, "settled_amount": balance, "settled_points": points}
    if how == Settlement.KEEP:
        return {"settlement": how, "settled_amount": Decimal("0.00"), "settled_points": 0}
    if how == Settlement.REFUND:
        amount = refund_amount(locked, choice)
        method = choice.settlement_method
        ledger.write(locked, Kind.REFUND, amount=-amount, by=by, method=method, request=request)
        if locked.balance or locked.points:
            rest = locked.balance
            ledger.write(locked, Kind.FORFEIT, amount=-rest, points=-locked.points, by=by, note=note, request=request)
        return {**fields, "settlement_method": method, "settled_amount": amount, "forfeit_reason": note}
    if how == Settlement.TRANSFER:
        ledger.transfer(locked, target, by=by, note=(choice.settlement_note or "").strip(), request=request)
        return {**fields, "settled_to": target}
    ledger.write(locked, Kind.FORFEIT, amount=-balance, points=-points, by=by, note=note, request=request)
    return {**fields, "forfeit_reason": note}


def merged(survivor: Customer, balance: Decimal, points: int) -> dict:
    """The settlement fields of a duplicate merged into ``survivor``: the merge's ledger transfer
    (customers.merge) moved its ``balance`` and ``points`` there."""
    return {
        "settlement": Settlement.TRANSFER,
        "settled_to": survivor,
        "settled_amount": balance,
        "settled_points": points,
    }


def apply(closure, fields: dict) -> None:
    """Copy :func:`settle`'s fields onto a closure (saved by the caller)."""
    for name, value in fields.items():
        setattr(closure, name, value)


def method_words(method: str) -> str:
    """A refund method's label as it reads inside a sentence ("cash", "bank transfer", "WeChat Pay")."""
    label = str(LedgerEntry.Method(method).label) if method in METHODS else method
    first = label.split(" ")[0]
    return label[:1].lower() + label[1:] if first[1:] == first[1:].lower() else label


def words(settlement: str, method: str = "", settled_to_no: str = "") -> str:
    """How a closure settled the money, in words: "refunded, cash", "transferred to C000124",
    "forfeited", "kept" ("" when there was nothing to settle)."""
    if settlement == Settlement.REFUND:
        return _("refunded, %(method)s") % {"method": method_words(method)}
    if settlement == Settlement.TRANSFER:
        return _("transferred to %(number)s") % {"number": settled_to_no}
    if settlement == Settlement.FORFEIT:
        return _("forfeited")
    if settlement == Settlement.KEEP:
        return _("kept")
    return ""


SETTLING_KINDS = (Kind.REFUND, Kind.FORFEIT, Kind.TRANSFER_OUT)


def settled_entries(closure) -> list[tuple[LedgerEntry, str]]:
    """The entries that settled a closure's money (written with it, so from its moment on; for a merged
    duplicate, the merge's transfer just before it), oldest first: what the reinstate page shows,
    since reinstating brings none of it back."""
    if closure is None or not closure.settlement:
        return []
    entries = LedgerEntry.objects.filter(customer_id=closure.customer_id).select_related("by", "counterpart")
    if closure.merged:  # the merge's transfer to the survivor, written just before the closure itself
        transfers = entries.filter(kind=Kind.TRANSFER_OUT, counterpart_id=closure.settled_to_id)
        found = list(transfers.filter(created_at__lte=closure.performed_at).order_by("-id")[:1])
    else:
        found = list(entries.filter(kind__in=SETTLING_KINDS, created_at__gte=closure.performed_at).order_by("id")[:5])
    return [(entry, entry_words(entry)) for entry in found]


def entry_words(entry: LedgerEntry) -> str:
    """One settling entry as a sentence: "Refunded 1,000.55 in cash on 2026-12-06 00:10 by Wang Fang."."""
    params = {
        "amount": money(-entry.amount),
        "points": -entry.points,
        "method": method_words(entry.method),
        "number": entry.counterpart.customer_no if entry.counterpart_id else "",
        "when": formats.date_format(timezone.localtime(entry.created_at), "DATETIME_FORMAT"),
        "who": (entry.by.get_full_name() or entry.by.get_username()) if entry.by_id else _("someone"),
    }
    if entry.kind == Kind.REFUND:
        return _("Refunded %(amount)s in %(method)s on %(when)s by %(who)s.") % params
    if entry.kind == Kind.TRANSFER_OUT:
        return _("Transferred %(amount)s and %(points)s points to %(number)s on %(when)s by %(who)s.") % params
    return _("Forfeited %(amount)s and %(points)s points on %(when)s by %(who)s.") % params
