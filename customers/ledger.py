"""The balance ledger: the one way a card's stored-value balance and loyalty points change.

A card's ``balance`` and ``points`` are running totals of its :class:`~customers.models.LedgerEntry`
rows. Every change writes an entry and moves the totals in the same transaction, under the card's
lock, so the card never disagrees with its ledger and nothing can "set" a balance: a wrong balance
is corrected by an adjustment that says why. That is what makes a settlement final: a card closed
with its balance refunded in cash holds 0.00 afterwards, and reinstating it brings back nothing,
because nothing but a new entry could.

    post(customer, kind, *, amount=0, points=0, by, note="", method="", request=None) -> LedgerEntry
        one entry a user records on an active card (top-up, paid from balance, adjustment):
        locks the card through the card gate, checks the permission and the rules.
    write(locked, kind, *, amount=0, points=0, by, note="", method="", counterpart=None,
          request=None) -> LedgerEntry
        the entry itself, for operations that already hold the card's lock and checked their own
        rules (a closure's settlement, a merge, an import): only the totals' rules are checked here.
    transfer(source, target, *, by, note="", request=None) -> tuple[LedgerEntry, LedgerEntry]
        the whole balance and points of one locked card onto another locked card (a settlement
        by transfer, the merge of a duplicate).
    opening_entries(cards, *, by, note) -> list[LedgerEntry]
        the opening entries of cards created with a balance (an import's new cards), unsaved.
    forget_notes(customer_id)
        erasure: the notes typed on the card's entries are blanked, the amounts kept.

Every entry is audited ("ledger.<kind>", the totals old → new) on the card's history, and is a
``card.updated`` event in the outbox (customers.events) naming the balance and points.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit

from . import events
from .models import Customer, LedgerEntry

Kind = LedgerEntry.Kind
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
# What a user records on an active card, and the permission each needs.
USER_KINDS = {
    Kind.TOP_UP: "customers.add_ledgerentry",
    Kind.SPEND: "customers.add_ledgerentry",
    Kind.ADJUSTMENT: "customers.change_balance",
}


def post(
    customer, kind: str, *, amount=Decimal(0), points: int = 0, by, note: str = "", method: str = "", request=None
):
    """Record a top-up, a payment from the balance or an adjustment on an active card, audited.

    A top-up adds (amount and/or points, both 0 or more), a payment takes away, an adjustment
    may do either but needs a note saying why and a Manager's permission. The result may never
    be negative: "the card holds 120.00; 150.00 cannot be paid from it".
    """
    from .gate import lock_for_change  # the gate imports this module

    kind = Kind(kind)
    if kind not in USER_KINDS:
        raise ValueError(f"{kind} is written by an operation, not posted")
    amount, points = _amounts(amount, points)
    with transaction.atomic():
        locked = lock_for_change(customer)
        if by is not None and not by.has_perm(USER_KINDS[kind]):
            raise ValidationError(_("You are not allowed to record this kind of balance entry."), code="permission")
        if kind != Kind.ADJUSTMENT and (amount < 0 or points < 0):
            raise ValidationError(_("Enter the amount and points as positive numbers."), code="negative")
        if not amount and not points:
            raise ValidationError(_("Enter an amount or a number of points."), code="empty")
        if kind == Kind.ADJUSTMENT and not (note or "").strip():
            raise ValidationError({"note": _("Write why the balance or points are adjusted.")}, code="note")
        if kind == Kind.SPEND:
            amount, points = -amount, -points
        entry = write(locked, kind, amount=amount, points=points, by=by, note=note, method=method, request=request)
    if isinstance(customer, Customer):
        customer.refresh_from_db(fields=["balance", "points", "updated_at"])
    return entry


def write(
    locked: Customer,
    kind: str,
    *,
    amount=Decimal(0),
    points: int = 0,
    by,
    note: str = "",
    method: str = "",
    counterpart: Customer | None = None,
    request=None,
) -> LedgerEntry:
    """Write one entry on a card the caller has locked, move its totals, audit it; returns the entry.

    ``locked`` is updated in place (balance, points). Refused when the result would be negative.
    """
    amount, points = _amounts(amount, points)
    old_balance, old_points = locked.balance, locked.points
    balance, total_points = old_balance + amount, old_points + points
    if balance < 0 or total_points < 0:
        raise ValidationError(
            _("Card %(number)s holds %(balance)s and %(points)s points: this entry would leave it negative.")
            % {"number": locked.customer_no, "balance": old_balance, "points": old_points},
            code="negative",
        )
    entry = LedgerEntry.objects.create(
        customer=locked,
        kind=kind,
        amount=amount,
        points=points,
        balance_after=balance,
        points_after=total_points,
        method=method or "",
        note=(note or "").strip()[:500],
        counterpart=counterpart,
        by=by if by is not None and by.pk else None,
    )
    locked.balance, locked.points = balance, total_points
    Customer.objects.filter(pk=locked.pk).update(balance=balance, points=total_points, updated_at=timezone.now())
    locked.refresh_from_db(fields=["updated_at"])
    changes = audit.diff({"balance": old_balance, "points": old_points}, {"balance": balance, "points": total_points})
    data = {"entry": entry.pk, "kind": str(kind)}
    if method:
        data["method"] = method
    if counterpart is not None:
        data["counterpart"] = counterpart.pk
    entry_audit = audit.record(
        f"ledger.{kind}",
        actor=by,
        request=request,
        obj=locked,
        customer_id=locked.pk,
        summary=f"{locked.customer_no} {locked.name}",
        changes=changes,
        notes=entry.note,
        data=data,
    )
    events.announce("card.updated", locked.pk, entry_audit, by=by)  # balance, points: finance hears of it
    return entry


def transfer(
    source: Customer, target: Customer, *, by, note: str = "", request=None
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move the whole balance and points of ``source`` onto ``target`` (both locked by the caller).

    Two entries that name each other's card: "transferred to C000124" on the one, "transferred
    from C000123" on the other. The caller decides whether the target may receive (it is active).
    """
    if source.pk == target.pk:
        raise ValidationError(_("A card cannot transfer its balance to itself."), code="same_card")
    amount, points = source.balance, source.points
    out = write(
        source, Kind.TRANSFER_OUT, amount=-amount, points=-points, by=by, note=note, counterpart=target, request=request
    )
    into = write(
        target, Kind.TRANSFER_IN, amount=amount, points=points, by=by, note=note, counterpart=source, request=request
    )
    return out, into


def opening_entries(cards, *, by, note: str) -> list[LedgerEntry]:
    """Unsaved opening entries for new cards that start with a balance or points (bulk_create them)."""
    return [
        LedgerEntry(
            customer_id=card.pk,
            kind=Kind.OPENING,
            amount=card.balance,
            points=card.points,
            balance_after=card.balance,
            points_after=card.points,
            note=note[:500],
            by=by if by is not None and by.pk else None,
        )
        for card in cards
        if card.balance or card.points
    ]


def forget_notes(customer_id: int) -> None:
    """Erasure: the text typed on a card's entries (why an adjustment, a forfeit) goes with its
    personal data; the amounts, kinds and dates stay, so the money's history still adds up."""
    LedgerEntry.objects.filter(customer_id=customer_id).update(note="")


def recent(customer, count: int = 10) -> list[LedgerEntry]:
    """The card's latest entries, newest first, with who made them and the other card of a transfer."""
    return list(customer.ledger.select_related("by", "counterpart").order_by("-id")[:count])


def _amounts(amount, points) -> tuple[Decimal, int]:
    try:
        amount = Decimal(amount or 0).quantize(CENT)
    except ArithmeticError:
        raise ValidationError(_("Enter the amount as a number, such as 120.50."), code="invalid") from None
    if abs(amount) > MAX_AMOUNT:
        raise ValidationError(_("This amount is too large."), code="too_large")
    return amount, int(points or 0)
