"""Bulk closing: many cards closed, voided or archived with one reason (Managers and Admins).

    bulk_close(customer_ids, *, by, action, reason, notes="", settlement_note="",
               request=None) -> BulkResult

It follows the pattern of closures/operations.py (one transaction, the cards locked, every rule
checked by closures/rules.py, the writes done by closures/writes.py), but a card that cannot be
closed is skipped with the reason why instead of refusing the whole selection, and the closures,
statuses and audit entries are written in batches rather than card by card, so the row locks are
held for as short a time as possible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import Customer

from . import rules, writes
from .models import ACTION_STATUS, Category, Closure, ClosureRequest
from .rules import CLOSING_ACTIONS

BULK_LIMIT = 5000


@dataclass
class BulkResult:
    """What a bulk closure did: the closures written, and each card left alone with why."""

    done: list[Closure] = field(default_factory=list)
    skipped: list[tuple[Customer, str]] = field(default_factory=list)


def bulk_close(
    customer_ids: Iterable[int],
    *,
    by,
    action: str,
    reason,
    notes: str = "",
    settlement_note: str = "",
    request=None,
) -> BulkResult:
    """Close, void or archive many cards with one reason, in one transaction (Managers and Admins).

    Cards that cannot be closed are skipped with the reason why (already closed, erased, pending
    approval, a balance without a settlement note); the others are closed. At most 5,000 cards.
    """
    ids = list(dict.fromkeys(int(pk) for pk in customer_ids))
    if not ids:
        raise ValidationError(_("Select at least one customer."), code="empty")
    if len(ids) > BULK_LIMIT:
        raise ValidationError(
            _("You selected %(count)s cards; at most %(limit)s can be closed at once. Narrow the selection.")
            % {"count": f"{len(ids):,}", "limit": f"{BULK_LIMIT:,}"},
            code="limit",
        )
    if not (by.has_perm("closures.bulk_close") and by.has_perm("closures.add_closure")):
        raise ValidationError(_("You are not allowed to close cards in bulk."), code="permission")
    if action not in CLOSING_ACTIONS:
        raise ValidationError(_("Choose close, void or archive."), code="action")
    reason = rules.check_reason(reason, action)
    if reason.category == Category.DUPLICATE:
        raise ValidationError(
            _("Voiding as a duplicate needs the surviving card of each record; void duplicates one by one."),
            code="duplicate",
        )
    rules.check_notes(reason, notes)
    rules.check_length(settlement_note)
    notes, settlement_note = notes.strip(), settlement_note.strip()
    result = BulkResult()
    with transaction.atomic():
        customers = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        pending = set(
            ClosureRequest.objects.filter(customer_id__in=ids, state=ClosureRequest.State.PENDING).values_list(
                "customer_id", flat=True
            )
        )
        to_close = []
        for pk in ids:
            customer = customers.get(pk)
            if customer is None:
                continue
            why = rules.bulk_skip_reason(customer, pending, settlement_note)
            if why:
                result.skipped.append((customer, why))
            else:
                to_close.append(customer)
        closures = [
            writes.new_closure(c, by=by, action=action, reason=reason, notes=notes, settlement_note=settlement_note)
            for c in to_close
        ]
        writes.write_closures(new=closures)
        writes.set_status(to_close, ACTION_STATUS[action])
        writes.record_bulk_closures(closures, request=request)
        result.done = closures
    return result
