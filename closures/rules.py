"""The rules every closure operation checks against the locked card, and the messages it refuses with.

closures.operations, closures.erasure and closures.bulk call these inside their transactions,
after locking the card (:func:`lock_card`): each raises ``ValidationError`` with a message a user
can read (who did what and when, what changed since the preview, what is missing) or returns what
the operation needs (the reason as it is now, the surviving card of a duplicate). They read and
never write (closures/writes.py does).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from customers.models import Customer

from .models import Action, Category, Closure, ClosureReason, ClosureRequest

MAX_NOTES = 1000
CLOSING_ACTIONS = (Action.CLOSE, Action.VOID, Action.ARCHIVE)
REINSTATABLE = (Customer.Status.CLOSED, Customer.Status.VOID, Customer.Status.ARCHIVED)


@dataclass(frozen=True)
class Seen:
    """What the user saw on the preview; confirming refuses when the card has changed since."""

    status: str
    updated_at: str
    balance: Decimal
    points: int

    @classmethod
    def of(cls, customer: Customer) -> Seen:
        return cls(
            status=customer.status,
            updated_at=customer.updated_at.isoformat(),
            balance=Decimal(customer.balance),
            points=int(customer.points),
        )


def lock_card(customer) -> Customer:
    """The customer row, locked until the transaction ends, as it is now in the database."""
    pk = getattr(customer, "pk", customer)
    return Customer.objects.select_for_update().get(pk=pk)


def who(user) -> str:
    if user is None:
        return _("someone")
    return user.get_full_name() or user.get_username()


def when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def already_message(closure: Closure) -> str:
    params = {"name": who(closure.performed_by), "time": when(closure.performed_at)}
    if closure.action == Action.VOID:
        return _("This record was already voided by %(name)s at %(time)s.") % params
    if closure.action == Action.ARCHIVE:
        return _("This card was already archived by %(name)s at %(time)s.") % params
    if closure.action == Action.ERASE or closure.customer_erased:
        return _("This card was already deleted by %(name)s at %(time)s.") % params
    return _("This card was already closed by %(name)s at %(time)s.") % params


def open_closure(customer: Customer) -> Closure | None:
    return (
        Closure.objects.open()
        .filter(customer_id=customer.pk)
        .select_related("reason", "performed_by")
        .order_by("-performed_at")
        .first()
    )


def not_active(customer: Customer) -> ValidationError:
    """Why a card that is no longer active cannot be closed: who did what, and when."""
    if customer.is_erased:
        return ValidationError(
            _("This card's personal data has already been deleted; nothing was changed."), code="erased"
        )
    closure = open_closure(customer)
    if closure is not None:
        return ValidationError(already_message(closure), code="already")
    return ValidationError(
        _("This card is not active (status: %(status)s); nothing was changed.")
        % {"status": customer.get_status_display()},
        code="status",
    )


def refuse_replay(nonce: str | None) -> None:
    """A confirmation already used (double click, refresh, back button) records nothing new."""
    if not nonce:
        return
    closure = Closure.objects.filter(nonce=nonce).select_related("performed_by").first()
    if closure is not None:
        raise ValidationError(already_message(closure), code="already")
    earlier = ClosureRequest.objects.filter(nonce=nonce).select_related("requested_by").first()
    if earlier is not None:
        raise ValidationError(
            _("This request was already sent by %(name)s at %(time)s.")
            % {"name": who(earlier.requested_by), "time": when(earlier.requested_at)},
            code="already",
        )


def check_closing(
    locked: Customer,
    *,
    action,
    reason,
    notes,
    settlement_note,
    balance_acknowledged,
    duplicate_of,
    seen,
) -> tuple[ClosureReason, Customer | None]:
    """Every rule of close / void / archive, against the locked row; returns the fresh reason and survivor."""
    if action not in CLOSING_ACTIONS:
        raise ValidationError(_("Choose close, void or archive."), code="action")
    if not locked.is_active:
        raise not_active(locked)
    earlier = (
        ClosureRequest.objects.filter(customer_id=locked.pk, state=ClosureRequest.State.PENDING)
        .select_related("requested_by")
        .first()
    )
    if earlier is not None:
        raise ValidationError(
            _("A closure of this card, requested by %(name)s at %(time)s, is waiting for a Manager's approval.")
            % {"name": who(earlier.requested_by), "time": when(earlier.requested_at)},
            code="pending",
        )
    check_seen(locked, seen)
    reason = check_reason(reason, action)
    check_notes(reason, notes)
    survivor = check_duplicate(locked, reason, getattr(duplicate_of, "pk", duplicate_of))
    check_money(locked, settlement_note, balance_acknowledged)
    return reason, survivor


def check_seen(locked: Customer, seen: Seen | None) -> None:
    """Refuse when the card changed between the preview and the confirmation."""
    if seen is None:
        return
    if locked.status != seen.status:
        if not locked.is_active:
            raise not_active(locked)
        raise ValidationError(
            _("This card was reinstated after your preview; nothing was changed. Review it and start again."),
            code="stale",
        )
    if locked.balance != seen.balance or locked.points != seen.points:
        raise ValidationError(
            _(
                "The card's balance or points changed after your preview (you saw %(old_balance)s and "
                "%(old_points)s points; it now has %(balance)s and %(points)s points). Nothing was changed; "
                "review the card and start again."
            )
            % {
                "old_balance": seen.balance,
                "old_points": seen.points,
                "balance": locked.balance,
                "points": locked.points,
            },
            code="stale",
        )
    if locked.updated_at.isoformat() != seen.updated_at:
        raise ValidationError(
            _(
                "The card was changed by someone else after your preview. Nothing was changed; "
                "review it and start again."
            ),
            code="stale",
        )


def check_reason(reason, action: str) -> ClosureReason:
    """The reason as it is now: still active and meant for this action."""
    pk = getattr(reason, "pk", reason)
    fresh = ClosureReason.objects.filter(pk=pk).first()
    if fresh is None:
        raise ValidationError(_("Choose a reason."), code="reason")
    if not fresh.is_active:
        raise ValidationError(
            _("The reason “%(reason)s” was retired after your preview; nothing was changed. Choose another reason.")
            % {"reason": fresh.label},
            code="retired",
        )
    if not fresh.applies_to(action):
        raise ValidationError(
            _("The reason “%(reason)s” is not meant for “%(action)s”.")
            % {"reason": fresh.label, "action": Action(action).label},
            code="reason",
        )
    return fresh


def check_length(text: str) -> None:
    if len(text or "") > MAX_NOTES:
        raise ValidationError(
            _("Notes can be at most %(max)s characters (these have %(count)s).")
            % {"max": f"{MAX_NOTES:,}", "count": f"{len(text):,}"},
            code="notes",
        )


def check_notes(reason: ClosureReason, notes: str) -> None:
    check_length(notes)
    if reason.requires_notes and not (notes or "").strip():
        raise ValidationError(
            _("The reason “%(reason)s” needs notes explaining it.") % {"reason": reason.label}, code="notes"
        )


def check_duplicate(locked: Customer, reason: ClosureReason, duplicate_of_id) -> Customer | None:
    """Void as duplicate: the surviving card must exist, be another card and be active."""
    if reason.category != Category.DUPLICATE:
        return None
    if not duplicate_of_id:
        raise ValidationError(_("Give the customer number of the card this one duplicates."), code="duplicate")
    if duplicate_of_id == locked.pk:
        raise ValidationError(_("A card cannot be a duplicate of itself."), code="duplicate")
    survivor = Customer.objects.filter(pk=duplicate_of_id).first()
    if survivor is None or not survivor.is_active:
        raise ValidationError(
            _("The surviving card must be an active card; %(number)s is not.")
            % {"number": survivor.customer_no if survivor else "?"},
            code="duplicate",
        )
    return survivor


def check_money(locked: Customer, settlement_note: str, acknowledged: bool) -> None:
    """A card with a stored-value balance or points closes only with an acknowledgement and a settlement note."""
    check_length(settlement_note)
    if locked.balance <= 0 and locked.points <= 0:
        return
    if not acknowledged or not (settlement_note or "").strip():
        raise ValidationError(
            _(
                "This card still has a balance of %(balance)s and %(points)s points: acknowledge it and write "
                "how it is settled."
            )
            % {"balance": locked.balance, "points": locked.points},
            code="balance",
        )


def check_decision(pending: ClosureRequest, *, by, note: str, rejecting: bool) -> None:
    if not by.has_perm("closures.decide_closurerequest"):
        raise ValidationError(_("You are not allowed to approve or reject closure requests."), code="permission")
    if pending.state != ClosureRequest.State.PENDING:
        raise ValidationError(
            _("This request was already decided (%(state)s by %(name)s at %(time)s).")
            % {
                "state": pending.get_state_display(),
                "name": who(pending.decided_by),
                "time": when(pending.decided_at or pending.requested_at),
            },
            code="already",
        )
    if rejecting and not (note or "").strip():
        raise ValidationError(_("Write why the request is rejected; the requester will see it."), code="notes")
    check_length(note)


def bulk_skip_reason(customer: Customer, pending: set[int], settlement_note: str) -> str:
    if customer.is_erased:
        return _("erased")
    if customer.status == Customer.Status.CLOSED:
        return _("already closed")
    if customer.status == Customer.Status.VOID:
        return _("already void")
    if customer.status == Customer.Status.ARCHIVED:
        return _("already archived")
    if customer.pk in pending:
        return _("pending approval")
    if (customer.balance > 0 or customer.points > 0) and not settlement_note:
        return _("has a balance or points and no settlement note")
    return ""
