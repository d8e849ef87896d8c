"""Every change of a card's status: one function per thing a user does.

Views, bulk actions, management commands and Celery tasks call these and nothing else to close,
void, archive, erase or reinstate a card. Each operation

1. runs in ``transaction.atomic()``, so the status, the closure row and the audit entry are
   written together or not at all (a failing audit write leaves nothing half-done);
2. locks the customer row with ``select_for_update()`` and re-reads it, so two people confirming
   the same card at the same moment are served one after the other and the second one sees the
   first one's result ("already closed by NAME at TIME") instead of adding a second closure;
3. checks every rule against the locked row (status and money unchanged since the preview, the
   reason still active and meant for this action, notes where required, the user's permission)
   and raises ``ValidationError`` with a message a user can read;
4. writes through ``_write_closures`` / ``_set_status``: the two places that change closures and
   statuses, so a summary table for the dashboard can be kept current in exactly one spot.

The database backs the locks up: at most one open closure per card and one pending request per
card (partial unique constraints), and a unique nonce per confirmation, so a replay of the same
confirmation can never record a second closure.

Signatures (keyword-only after the card):

    approval_needed(customer, user) -> bool
    confirm_closure(customer, *, by, action, reason, notes="", settlement_note="",
                    balance_acknowledged=False, duplicate_of=None, seen=None, nonce=None,
                    request=None) -> Closure | ClosureRequest
    close_customer(customer, *, by, action, reason, notes="", settlement_note="",
                   balance_acknowledged=False, duplicate_of=None, seen=None, nonce=None,
                   request=None) -> Closure
    request_closure(customer, *, by, action, reason, notes="", settlement_note="",
                    balance_acknowledged=False, duplicate_of=None, seen=None, nonce=None,
                    request=None) -> ClosureRequest
    approve(closure_request, *, by, note="", request=None) -> Closure
    reject(closure_request, *, by, note, request=None) -> ClosureRequest
    reinstate(customer, *, by, note, request=None) -> Closure | None
    erase_customer(customer, *, by, confirmation, reason, notes="", settlement_note="",
                   balance_acknowledged=False, seen=None, nonce=None, request=None) -> Closure
    bulk_close(customer_ids, *, by, action, reason, notes="", settlement_note="",
               request=None) -> BulkResult

``customer`` may be a Customer or its primary key; ``reason`` a ClosureReason or its primary key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from crm import audit
from crm.models import ERASED_MARKER, AuditEntry
from customers.models import Customer, Interaction

from . import tally
from .models import ACTION_STATUS, Action, Category, Closure, ClosureReason, ClosureRequest, ClosureSettings

MAX_NOTES = 1000
BULK_LIMIT = 5000
CLOSING_ACTIONS = (Action.CLOSE, Action.VOID, Action.ARCHIVE)
REINSTATABLE = (Customer.Status.CLOSED, Customer.Status.VOID, Customer.Status.ARCHIVED)

# Fields wiped by erasure, and the blank value each gets.
PERSONAL_FIELDS = {
    "name": ERASED_MARKER,
    "gender": "",
    "birth_date": None,
    "occupation": "",
    "company": "",
    "title": "",
    "phone": "",
    "phone_rev": "",
    "email": "",
    "wechat": "",
    "address": "",
    "preferences": "",
}


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


@dataclass
class BulkResult:
    """What a bulk closure did: the closures written, and each card left alone with why."""

    done: list[Closure] = field(default_factory=list)
    skipped: list[tuple[Customer, str]] = field(default_factory=list)


# --- Public operations ----------------------------------------------------------------------


def approval_needed(customer: Customer, user) -> bool:
    """Whether ``user``'s closure of ``customer`` must wait for a Manager (Managers and Admins never do)."""
    if user.has_perm("closures.decide_closurerequest"):
        return False
    return ClosureSettings.load().needs_approval(customer)


def confirm_closure(customer, *, by, **choice) -> Closure | ClosureRequest:
    """What "Confirm" does for close / void / archive: close now, or ask a Manager when approval applies.

    Decided under the row lock, so a setting switched on between preview and confirmation applies.
    """
    with transaction.atomic():
        locked = _lock(customer)
        if approval_needed(locked, by):
            return request_closure(locked, by=by, **choice)
        return close_customer(locked, by=by, **choice)


def close_customer(
    customer,
    *,
    by,
    action: str,
    reason,
    notes: str = "",
    settlement_note: str = "",
    balance_acknowledged: bool = False,
    duplicate_of: Customer | None = None,
    seen: Seen | None = None,
    nonce: str | None = None,
    request=None,
) -> Closure:
    """Close a card (销卡), void a record (作废) or archive it (归档), now.

    Refused when the user's closures of this card need approval (use ``confirm_closure`` or
    ``request_closure``); Managers approving a request go through ``approve``.
    """
    with transaction.atomic():
        locked = _lock(customer)
        _refuse_replay(nonce)
        if not by.has_perm("closures.add_closure"):
            raise ValidationError(_("You are not allowed to close cards."), code="permission")
        reason, duplicate_of = _check_closing(
            locked,
            action=action,
            reason=reason,
            notes=notes,
            settlement_note=settlement_note,
            balance_acknowledged=balance_acknowledged,
            duplicate_of=duplicate_of,
            seen=seen,
        )
        if approval_needed(locked, by):
            raise ValidationError(_("Closing this card needs a Manager's approval."), code="approval")
        return _close(
            locked,
            by=by,
            action=action,
            reason=reason,
            notes=notes,
            settlement_note=settlement_note,
            duplicate_of=duplicate_of,
            nonce=nonce,
            request=request,
        )


def request_closure(
    customer,
    *,
    by,
    action: str,
    reason,
    notes: str = "",
    settlement_note: str = "",
    balance_acknowledged: bool = False,
    duplicate_of: Customer | None = None,
    seen: Seen | None = None,
    nonce: str | None = None,
    request=None,
) -> ClosureRequest:
    """Ask a Manager to close, void or archive a card (approval switched on); the card stays active.

    The request keeps the balance and points seen, so approving refuses if the money changed.
    """
    with transaction.atomic():
        locked = _lock(customer)
        _refuse_replay(nonce)
        if not by.has_perm("closures.add_closure"):
            raise ValidationError(_("You are not allowed to close cards."), code="permission")
        reason, duplicate_of = _check_closing(
            locked,
            action=action,
            reason=reason,
            notes=notes,
            settlement_note=settlement_note,
            balance_acknowledged=balance_acknowledged,
            duplicate_of=duplicate_of,
            seen=seen,
        )
        closure_request = ClosureRequest(
            customer=locked,
            action=action,
            reason=reason,
            notes=notes.strip(),
            settlement_note=settlement_note.strip(),
            duplicate_of=duplicate_of,
            requested_by=by,
            nonce=nonce,
            balance_seen=locked.balance,
            points_seen=locked.points,
        )
        _save_new(closure_request)
        audit.record(
            "closure.request",
            actor=by,
            request=request,
            obj=closure_request,
            object_type="closurerequest",
            customer_id=locked.pk,
            summary=_("%(action)s requested") % {"action": Action(action).label},
            reason=reason.label,
            notes=notes.strip(),
        )
        return closure_request


def approve(closure_request: ClosureRequest | int, *, by, note: str = "", request=None) -> Closure:
    """A Manager approves a pending request: the closure is performed now, recording who asked."""
    pk = getattr(closure_request, "pk", closure_request)
    with transaction.atomic():
        locked = _lock(ClosureRequest.objects.values_list("customer_id", flat=True).get(pk=pk))
        pending = ClosureRequest.objects.select_for_update().select_related("requested_by").get(pk=pk)
        _check_decision(pending, by=by, note=note, rejecting=False)
        if not locked.is_active:
            raise _not_active(locked)
        if locked.balance != pending.balance_seen or locked.points != pending.points_seen:
            raise ValidationError(
                _(
                    "The card's balance or points changed since the request (was %(old_balance)s and "
                    "%(old_points)s points, now %(balance)s and %(points)s points). Reject this request "
                    "and ask for a new one."
                )
                % {
                    "old_balance": pending.balance_seen,
                    "old_points": pending.points_seen,
                    "balance": locked.balance,
                    "points": locked.points,
                },
                code="stale",
            )
        reason = _check_reason(pending.reason_id, pending.action)
        _check_notes(reason, pending.notes)
        duplicate_of = _check_duplicate(locked, reason, pending.duplicate_of_id)
        closure = _close(
            locked,
            by=by,
            action=pending.action,
            reason=reason,
            notes=pending.notes,
            settlement_note=pending.settlement_note,
            duplicate_of=duplicate_of,
            requested_by=pending.requested_by,
            request=request,
        )
        _decide(pending, ClosureRequest.State.APPROVED, by=by, note=note, closure=closure, request=request)
        return closure


def reject(closure_request: ClosureRequest | int, *, by, note: str, request=None) -> ClosureRequest:
    """A Manager rejects a pending request with a note the requester will see; the card stays active."""
    pk = getattr(closure_request, "pk", closure_request)
    with transaction.atomic():
        _lock(ClosureRequest.objects.values_list("customer_id", flat=True).get(pk=pk))
        pending = ClosureRequest.objects.select_for_update().select_related("requested_by").get(pk=pk)
        _check_decision(pending, by=by, note=note, rejecting=True)
        _decide(pending, ClosureRequest.State.REJECTED, by=by, note=note, request=request)
        return pending


def reinstate(customer, *, by, note: str, request=None) -> Closure | None:
    """A closed, void or archived card returns to active; its closure is kept and marked reverted.

    Returns the reverted closure (None for a card that was never closed through the app, e.g. imported).
    """
    with transaction.atomic():
        locked = _lock(customer)
        if not by.has_perm("closures.reinstate_closure"):
            raise ValidationError(_("You are not allowed to reinstate cards."), code="permission")
        if locked.is_erased:
            raise ValidationError(_("A deleted card cannot be reinstated: its personal data is gone."), code="erased")
        if locked.status not in REINSTATABLE:
            raise ValidationError(_("This card is already active."), code="status")
        note = (note or "").strip()
        if not note:
            raise ValidationError(_("Write why the card is reinstated."), code="notes")
        _check_length(note)
        closure = _open_closure(locked)
        if closure is not None:
            closure.reverted_at = timezone.now()
            closure.reverted_by = by
            closure.revert_note = note
            _write_closures(reverted=[closure])
        old = locked.status
        _set_status([locked], Customer.Status.ACTIVE)
        audit.record(
            "closure.reinstate",
            actor=by,
            request=request,
            obj=closure or locked,
            customer_id=locked.pk,
            summary=_("Card reinstated"),
            changes={"status": [old, Customer.Status.ACTIVE.value]},
            reason=closure.reason.label if closure else "",
            notes=note,
        )
        return closure


def erase_customer(
    customer,
    *,
    by,
    confirmation: str,
    reason,
    notes: str = "",
    settlement_note: str = "",
    balance_acknowledged: bool = False,
    seen: Seen | None = None,
    nonce: str | None = None,
    request=None,
) -> Closure:
    """Delete (删除): irreversibly erase the customer's personal data; the closure record survives.

    The card keeps its number, segment, money and dates so analytics counts do not change. An
    open closure stays (marked ``customer_erased``); an active card gets an "erase" closure.
    Personal values are replaced with a marker in the card's old audit entries too. Returns the
    closure that now stands for the card.
    """
    with transaction.atomic():
        locked = _lock(customer)
        _refuse_replay(nonce)
        if not by.has_perm("closures.erase_customer"):
            raise ValidationError(_("Only an Admin can delete a card's personal data."), code="permission")
        if locked.is_erased:
            raise _not_active(locked)
        if (confirmation or "").strip() != locked.customer_no:
            raise ValidationError(
                _("Type the customer number %(number)s exactly to confirm.") % {"number": locked.customer_no},
                code="confirmation",
            )
        _check_seen(locked, seen)
        reason = _check_reason(reason, Action.ERASE)
        _check_notes(reason, notes)
        closure = _open_closure(locked)
        if closure is None and locked.is_active:
            _check_money(locked, settlement_note, balance_acknowledged)
        old_values = _personal_values(locked)
        notes = _redacted(notes.strip(), old_values)
        settlement_note = _redacted(settlement_note.strip(), old_values)
        if closure is None:
            closure = _close(
                locked,
                by=by,
                action=Action.ERASE,
                reason=reason,
                notes=notes,
                settlement_note=settlement_note,
                nonce=nonce,
                request=request,
                record=False,
            )
        old_status = locked.status
        _erase_personal_data(locked)
        _write_closures(erased=[closure])
        AuditEntry.objects.redact_customer(locked.pk, old_values)
        audit.record(
            "closure.erase",
            actor=by,
            request=request,
            obj=closure,
            customer_id=locked.pk,
            summary=_("Personal data deleted"),
            changes={"status": [old_status, Customer.Status.ERASED.value]},
            reason=reason.label,
            notes=notes,
        )
        return closure


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
    reason = _check_reason(reason, action)
    if reason.category == Category.DUPLICATE:
        raise ValidationError(
            _("Voiding as a duplicate needs the surviving card of each record; void duplicates one by one."),
            code="duplicate",
        )
    _check_notes(reason, notes)
    _check_length(settlement_note)
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
            why = _bulk_skip_reason(customer, pending, settlement_note)
            if why:
                result.skipped.append((customer, why))
            else:
                to_close.append(customer)
        closures = [
            _new_closure(c, by=by, action=action, reason=reason, notes=notes, settlement_note=settlement_note)
            for c in to_close
        ]
        _write_closures(new=closures)
        _set_status(to_close, ACTION_STATUS[action])
        _record_bulk_closures(closures, request=request)
        result.done = closures
    return result


# --- Rules ---------------------------------------------------------------------------------------


def _lock(customer) -> Customer:
    """The customer row, locked until the transaction ends, as it is now in the database."""
    pk = getattr(customer, "pk", customer)
    return Customer.objects.select_for_update().get(pk=pk)


def _who(user) -> str:
    if user is None:
        return _("someone")
    return user.get_full_name() or user.get_username()


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _already_message(closure: Closure) -> str:
    params = {"name": _who(closure.performed_by), "time": _when(closure.performed_at)}
    if closure.action == Action.VOID:
        return _("This record was already voided by %(name)s at %(time)s.") % params
    if closure.action == Action.ARCHIVE:
        return _("This card was already archived by %(name)s at %(time)s.") % params
    if closure.action == Action.ERASE or closure.customer_erased:
        return _("This card was already deleted by %(name)s at %(time)s.") % params
    return _("This card was already closed by %(name)s at %(time)s.") % params


def _open_closure(customer: Customer) -> Closure | None:
    return (
        Closure.objects.open()
        .filter(customer_id=customer.pk)
        .select_related("reason", "performed_by")
        .order_by("-performed_at")
        .first()
    )


def _not_active(customer: Customer) -> ValidationError:
    """Why a card that is no longer active cannot be closed: who did what, and when."""
    if customer.is_erased:
        return ValidationError(
            _("This card's personal data has already been deleted; nothing was changed."), code="erased"
        )
    closure = _open_closure(customer)
    if closure is not None:
        return ValidationError(_already_message(closure), code="already")
    return ValidationError(
        _("This card is not active (status: %(status)s); nothing was changed.")
        % {"status": customer.get_status_display()},
        code="status",
    )


def _refuse_replay(nonce: str | None) -> None:
    """A confirmation already used (double click, refresh, back button) records nothing new."""
    if not nonce:
        return
    closure = Closure.objects.filter(nonce=nonce).select_related("performed_by").first()
    if closure is not None:
        raise ValidationError(_already_message(closure), code="already")
    earlier = ClosureRequest.objects.filter(nonce=nonce).select_related("requested_by").first()
    if earlier is not None:
        raise ValidationError(
            _("This request was already sent by %(name)s at %(time)s.")
            % {"name": _who(earlier.requested_by), "time": _when(earlier.requested_at)},
            code="already",
        )


def _check_closing(
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
        raise _not_active(locked)
    earlier = (
        ClosureRequest.objects.filter(customer_id=locked.pk, state=ClosureRequest.State.PENDING)
        .select_related("requested_by")
        .first()
    )
    if earlier is not None:
        raise ValidationError(
            _("A closure of this card, requested by %(name)s at %(time)s, is waiting for a Manager's approval.")
            % {"name": _who(earlier.requested_by), "time": _when(earlier.requested_at)},
            code="pending",
        )
    _check_seen(locked, seen)
    reason = _check_reason(reason, action)
    _check_notes(reason, notes)
    survivor = _check_duplicate(locked, reason, getattr(duplicate_of, "pk", duplicate_of))
    _check_money(locked, settlement_note, balance_acknowledged)
    return reason, survivor


def _check_seen(locked: Customer, seen: Seen | None) -> None:
    """Refuse when the card changed between the preview and the confirmation."""
    if seen is None:
        return
    if locked.status != seen.status:
        if not locked.is_active:
            raise _not_active(locked)
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


def _check_reason(reason, action: str) -> ClosureReason:
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


def _check_length(text: str) -> None:
    if len(text or "") > MAX_NOTES:
        raise ValidationError(
            _("Notes can be at most %(max)s characters (these have %(count)s).")
            % {"max": f"{MAX_NOTES:,}", "count": f"{len(text):,}"},
            code="notes",
        )


def _check_notes(reason: ClosureReason, notes: str) -> None:
    _check_length(notes)
    if reason.requires_notes and not (notes or "").strip():
        raise ValidationError(
            _("The reason “%(reason)s” needs notes explaining it.") % {"reason": reason.label}, code="notes"
        )


def _check_duplicate(locked: Customer, reason: ClosureReason, duplicate_of_id) -> Customer | None:
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


def _check_money(locked: Customer, settlement_note: str, acknowledged: bool) -> None:
    """A card with a stored-value balance or points closes only with an acknowledgement and a settlement note."""
    _check_length(settlement_note)
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


def _check_decision(pending: ClosureRequest, *, by, note: str, rejecting: bool) -> None:
    if not by.has_perm("closures.decide_closurerequest"):
        raise ValidationError(_("You are not allowed to approve or reject closure requests."), code="permission")
    if pending.state != ClosureRequest.State.PENDING:
        raise ValidationError(
            _("This request was already decided (%(state)s by %(name)s at %(time)s).")
            % {
                "state": pending.get_state_display(),
                "name": _who(pending.decided_by),
                "time": _when(pending.decided_at or pending.requested_at),
            },
            code="already",
        )
    if rejecting and not (note or "").strip():
        raise ValidationError(_("Write why the request is rejected; the requester will see it."), code="notes")
    _check_length(note)


def _bulk_skip_reason(customer: Customer, pending: set[int], settlement_note: str) -> str:
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


# --- Writes ----------------------------------------------------------------------------------


def _new_closure(
    customer: Customer,
    *,
    by,
    action,
    reason,
    notes="",
    settlement_note="",
    duplicate_of=None,
    requested_by=None,
    nonce=None,
) -> Closure:
    """An unsaved closure with the card's segment, owner, tenure and money copied as they are now."""
    now = timezone.now()
    return Closure(
        customer=customer,
        action=action,
        reason=reason,
        category=reason.category,
        notes=(notes or "").strip(),
        settlement_note=(settlement_note or "").strip(),
        duplicate_of=duplicate_of,
        previous_status=customer.status,
        balance_at_closure=customer.balance,
        points_at_closure=customer.points,
        segment=customer.segment,
        owner_id=customer.owner_id,
        tenure_days=max((now - customer.created_at).days, 0),
        performed_by=by,
        performed_at=now,
        requested_by=requested_by,
        nonce=nonce or None,
    )


def _close(
    locked: Customer,
    *,
    by,
    action,
    reason,
    notes="",
    settlement_note="",
    duplicate_of=None,
    requested_by=None,
    nonce=None,
    request=None,
    record=True,
) -> Closure:
    """Write one closure, the new status and (unless the caller writes its own) the audit entry."""
    duplicate_of = duplicate_of if reason.category == Category.DUPLICATE else None
    closure = _new_closure(
        locked,
        by=by,
        action=action,
        reason=reason,
        notes=notes,
        settlement_note=settlement_note,
        duplicate_of=duplicate_of,
        requested_by=requested_by,
        nonce=nonce,
    )
    _write_closures(new=[closure])
    if record:
        _set_status([locked], ACTION_STATUS[action])
        _record_closure(closure, request=request)
    return closure


def _closure_entry(closure: Closure, *, summary_extra: str = "") -> dict:
    """The audit entry of one closure, as keyword arguments of crm.audit.record."""
    changes = {"status": [closure.previous_status, ACTION_STATUS[closure.action].value]}
    if closure.duplicate_of_id:
        changes["duplicate_of"] = [None, closure.duplicate_of.customer_no]
    summary = Action(closure.action).label
    if closure.requested_by_id:
        summary = _("%(action)s, requested by %(name)s") % {"action": summary, "name": _who(closure.requested_by)}
    if summary_extra:
        summary = f"{summary} ({summary_extra})"
    notes = closure.notes
    if closure.settlement_note:
        notes = "\n".join(filter(None, [notes, _("Settlement: %(note)s") % {"note": closure.settlement_note}]))
    return {
        "actor": closure.performed_by,
        "obj": closure,
        "customer_id": closure.customer_id,
        "summary": str(summary),
        "changes": changes,
        "reason": closure.reason.label,
        "notes": notes,
    }


def _record_closure(closure: Closure, *, request=None) -> None:
    audit.record(f"closure.{closure.action}", request=request, **_closure_entry(closure))


def _record_bulk_closures(closures: list[Closure], *, request=None) -> None:
    """The audit entries of a bulk closure: the same rows crm.audit.record writes, inserted in batches.

    Thousands of single inserts would take seconds inside the transaction that holds the row locks.
    """
    ip = audit.client_ip(request)
    rows = []
    for closure in closures:
        entry = _closure_entry(closure, summary_extra=_("bulk"))
        actor = entry.pop("actor")
        closure_obj = entry.pop("obj")
        rows.append(
            AuditEntry(
                action=f"closure.{closure.action}",
                actor=actor,
                actor_name=actor.get_username(),
                ip=ip,
                object_type="closure",
                object_id=str(closure_obj.pk),
                **{**entry, "summary": entry["summary"][:300], "reason": entry["reason"][:200]},
            )
        )
    AuditEntry.objects.bulk_create(rows, batch_size=1000)


def _save_new(obj) -> None:
    """Insert, turning a lost race on a unique constraint into a readable refusal."""
    try:
        with transaction.atomic():
            obj.save(force_insert=True)
    except IntegrityError as exc:
        raise ValidationError(
            _("Someone else changed this card at the same moment; nothing was changed. Review it and try again."),
            code="conflict",
        ) from exc


def _write_closures(
    *, new: list[Closure] = (), reverted: list[Closure] = (), erased: list[Closure] = ()
) -> list[Closure]:
    """The one place that writes closure rows and the dashboard's tallies (closures/tally.py).

    ``new`` are inserted (one statement for a bulk closure), ``reverted`` have their reverted_*
    fields saved, ``erased`` are marked customer_erased and every note on their card's closures
    and requests is wiped. The tallies count new closures and move reverted ones to their
    reverted month; erasure changes nothing they count. Callers hold the transaction.
    """
    if len(new) == 1:
        _save_new(new[0])
    elif new:
        try:
            with transaction.atomic():
                Closure.objects.bulk_create(new, batch_size=1000)
        except IntegrityError as exc:
            raise ValidationError(
                _("Someone else changed these cards at the same moment; nothing was changed. Try again."),
                code="conflict",
            ) from exc
    for closure in reverted:
        closure.save(update_fields=["reverted_at", "reverted_by", "revert_note"])
    tally.apply(new=new, reverted=reverted)
    for closure in erased:
        closure.customer_erased = True
        closure.notes = closure.settlement_note = ""
        closure.save(update_fields=["customer_erased", "notes", "settlement_note"])
        Closure.objects.filter(customer_id=closure.customer_id).update(notes="", settlement_note="", revert_note="")
        requests = ClosureRequest.objects.filter(customer_id=closure.customer_id)
        requests.filter(state=ClosureRequest.State.PENDING).update(
            state=ClosureRequest.State.WITHDRAWN, decided_at=timezone.now()
        )
        requests.update(notes="", settlement_note="", decision_note="")
    return list(new)


def _set_status(customers: list[Customer], status: str) -> None:
    """The one place that changes card statuses (kept next to _write_closures for the same reason)."""
    if not customers:
        return
    now = timezone.now()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(status=status, updated_at=now)
    for customer in customers:
        customer.status = status
        customer.updated_at = now


def _decide(pending: ClosureRequest, state, *, by, note, closure=None, request=None) -> None:
    pending.state = state
    pending.decided_by = by
    pending.decided_at = timezone.now()
    pending.decision_note = (note or "").strip()
    pending.closure = closure
    pending.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "closure"])
    approved = state == ClosureRequest.State.APPROVED
    audit.record(
        "closure.approve" if approved else "closure.reject",
        actor=by,
        request=request,
        obj=pending,
        object_type="closurerequest",
        customer_id=pending.customer_id,
        summary=(_("%(action)s approved") if approved else _("%(action)s rejected"))
        % {"action": Action(pending.action).label},
        reason=pending.reason.label,
        notes=pending.decision_note,
    )


# --- Erasure ---------------------------------------------------------------------------------


def _personal_values(customer: Customer) -> list[str]:
    """Every personal value of the card, as it may appear in old audit entries."""
    values = [str(getattr(customer, name) or "") for name in PERSONAL_FIELDS if name not in ("gender", "phone_rev")]
    if customer.birth_date:
        values.append(customer.birth_date.isoformat())
    phone = customer.phone or ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    values += [digits, digits[2:] if phone.startswith("+86") else ""]
    if phone.startswith("+86") and len(phone) == 14:
        values.append(f"+86 {phone[3:6]} {phone[6:10]} {phone[10:]}")
    values += list(customer.tags.values_list("name", flat=True))
    for summary, outcome in Interaction.objects.filter(customer=customer).values_list("summary", "outcome"):
        values += [summary, outcome]
    for row in Closure.objects.filter(customer=customer).values_list("notes", "settlement_note", "revert_note"):
        values += list(row)
    requests = ClosureRequest.objects.filter(customer=customer)
    for row in requests.values_list("notes", "settlement_note", "decision_note"):
        values += list(row)
    # Earlier values too (a previous phone number or name), as the card's edit history recorded them.
    personal = set(PERSONAL_FIELDS) | {"tags"}
    for changes in AuditEntry.objects.for_customer(customer.pk).values_list("changes", flat=True):
        for name, pair in (changes or {}).items():
            if name in personal and isinstance(pair, list):
                values += [str(v) for v in pair if v]
    return [v for v in values if v and v != ERASED_MARKER and len(v) >= 2]


def _redacted(text: str, values: list[str]) -> str:
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, ERASED_MARKER)
    return text


def _erase_personal_data(locked: Customer) -> None:
    _set_status([locked], Customer.Status.ERASED)
    Customer.objects.filter(pk=locked.pk).update(**PERSONAL_FIELDS)
    for name, blank in PERSONAL_FIELDS.items():
        setattr(locked, name, blank)
    locked.tags.clear()
    Interaction.objects.filter(customer=locked).update(summary=ERASED_MARKER, outcome="")
