"""Legal holds (法律保留): place and release, each one transaction with its audit entry on the card.

A card under a legal hold is left out of every retention run (privacy/retention.py) and cannot be
erased (:func:`refuse_erasure`, registered with closures.erasure), from its page, from a
personal-data request or by a run, until an Admin releases the hold saying why.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closures.rules import who
from crm import audit
from crm.models import redact_value
from customers.models import Customer

from .models import LegalHold

REASON_MAX = 2000
audit.ACTION_LABELS.update(
    {
        "privacy.hold": gettext_lazy("Legal hold placed"),
        "privacy.release": gettext_lazy("Legal hold released"),
    }
)


def place(customer: Customer, reason: str, *, by, request=None) -> LegalHold:
    """Put the card under a legal hold; the reason (a dispute, an audit, a court order) is required."""
    reason = _checked_text(reason, "reason", _("Write why the card is held (a dispute, an audit, a court order)."))
    try:
        with transaction.atomic():
            card = Customer.objects.select_for_update().get(pk=customer.pk)
            if card.is_erased:
                raise ValidationError(_("This card has been erased; there is nothing left to hold."))
            current = LegalHold.objects.active().filter(customer=card).select_related("placed_by").first()
            if current is not None:
                raise ValidationError(_already(current))
            hold = LegalHold.objects.create(customer=card, reason=reason, placed_by=by)
            _record("privacy.hold", hold, by, request, notes=reason)
            return hold
    except IntegrityError:  # placed by someone else at the same moment
        current = LegalHold.objects.active().filter(customer=customer).select_related("placed_by").first()
        raise ValidationError(_already(current)) from None


def release(hold: LegalHold, note: str, *, by, request=None) -> LegalHold:
    """End the hold; saying why is required. The released hold stays on record."""
    note = _checked_text(note, "note", _("Write why the hold is released."))
    with transaction.atomic():
        locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if not locked.is_active:
            raise ValidationError(_("This hold was released already."))
        locked.released_by, locked.released_at, locked.release_note = by, timezone.now(), note
        locked.save(update_fields=["released_by", "released_at", "release_note"])
        _record("privacy.release", locked, by, request, notes=note)
        return locked


def active_hold(customer: Customer) -> LegalHold | None:
    """The card's hold in force, if any (one query: the card page's panel)."""
    return LegalHold.objects.active().filter(customer=customer).select_related("placed_by").first()


def refuse_erasure(locked: Customer) -> None:
    """closures.erasure's check: a card under a legal hold is not erased."""
    hold = LegalHold.objects.active().filter(customer=locked).select_related("placed_by").first()
    if hold is not None:
        raise ValidationError(
            _("This card is under a legal hold (%(reason)s), placed by %(name)s on %(day)s; release the hold first.")
            % {
                "reason": hold.reason,
                "name": who(hold.placed_by),
                "day": date_format(timezone.localtime(hold.placed_at)),
            },
            code="legal_hold",
        )


def _already(hold: LegalHold | None) -> str:
    if hold is None:
        return _("This card is under a legal hold already.")
    return _("This card is under a legal hold already, placed by %(name)s on %(day)s.") % {
        "name": who(hold.placed_by),
        "day": date_format(timezone.localtime(hold.placed_at)),
    }


def _checked_text(text: str, field: str, missing: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: missing})
    if len(text) > REASON_MAX:
        raise ValidationError({field: _("At most %(max)s characters, please.") % {"max": REASON_MAX}})
    return text


def _record(action: str, hold: LegalHold, by, request, *, notes: str) -> None:
    audit.record(
        action,
        actor=by,
        request=request,
        obj=hold,
        object_type="legalhold",
        customer_id=hold.customer_id,
        notes=notes,
    )


def forget_values(values: list[str]) -> None:
    """An erased card's values wherever a hold's reason or release note quotes them (crm.forget calls
    this in every erasure: a released hold's reason may name the customer)."""
    for hold in LegalHold.objects.only("pk", "reason", "release_note").iterator(chunk_size=500):
        reason, note = redact_value(hold.reason, values), redact_value(hold.release_note, values)
        if (reason, note) != (hold.reason, hold.release_note):
            LegalHold.objects.filter(pk=hold.pk).update(reason=reason, release_note=note)
