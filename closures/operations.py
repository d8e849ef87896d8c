"""The card-closure workflow: one function per thing a user does to close a card or undo it.

Views, management commands and Celery tasks call these and nothing else to close, void, archive
or reinstate a card, to ask a Manager for a closure, and to approve or reject that request.
Erasure lives in closures/erasure.py and bulk closing in closures/bulk.py; they follow the same
pattern. Each operation

1. runs in ``transaction.atomic()``, so the status, the closure row and the audit entry are
   written together or not at all (a failing audit write leaves nothing half-done);
2. locks the customer row with ``select_for_update()`` and re-reads it, so two people confirming
   the same card at the same moment are served one after the other and the second one sees the
   first one's result ("already closed by NAME at TIME") instead of adding a second closure;
3. checks every rule against the locked row (status and money unchanged since the preview, the
   reason still active and meant for this action, notes where required, the user's permission)
   and raises ``ValidationError`` with a message a user can read (the checks live in
   closures/rules.py);
4. writes through ``write_closures`` / ``set_status`` in closures/writes.py: the two places that
   change closures and statuses, so the dashboard's closure tallies (closures/tally.py) are kept
   in exactly one spot.

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

and, in their own modules:

    erasure.erase_customer(customer, *, by, confirmation, reason, notes="", settlement_note="",
                           balance_acknowledged=False, seen=None, nonce=None,
                           request=None) -> Closure
    bulk.bulk_close(customer_ids, *, by, action, reason, notes="", settlement_note="",
                    request=None) -> BulkResult

``customer`` may be a Customer or its primary key; ``reason`` a ClosureReason or its primary key.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit
from customers.models import Customer

from . import rules, writes
from .models import Action, Closure, ClosureRequest, ClosureSettings
from .rules import REINSTATABLE, Seen


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
        locked = rules.lock_card(customer)
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
        locked = rules.lock_card(customer)
        rules.refuse_replay(nonce)
        if not by.has_perm("closures.add_closure"):
            raise ValidationError(_("You are not allowed to close cards."), code="permission")
        reason, duplicate_of = rules.check_closing(
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
        return writes.close(
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
        locked = rules.lock_card(customer)
        rules.refuse_replay(nonce)
        if not by.has_perm("closures.add_closure"):
            raise ValidationError(_("You are not allowed to close cards."), code="permission")
        reason, duplicate_of = rules.check_closing(
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
        writes.save_new(closure_request)
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
        locked = rules.lock_card(ClosureRequest.objects.values_list("customer_id", flat=True).get(pk=pk))
        pending = ClosureRequest.objects.select_for_update().select_related("requested_by").get(pk=pk)
        rules.check_decision(pending, by=by, note=note, rejecting=False)
        if not locked.is_active:
            raise rules.not_active(locked)
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
        reason = rules.check_reason(pending.reason_id, pending.action)
        rules.check_notes(reason, pending.notes)
        duplicate_of = rules.check_duplicate(locked, reason, pending.duplicate_of_id)
        closure = writes.close(
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
        rules.lock_card(ClosureRequest.objects.values_list("customer_id", flat=True).get(pk=pk))
        pending = ClosureRequest.objects.select_for_update().select_related("requested_by").get(pk=pk)
        rules.check_decision(pending, by=by, note=note, rejecting=True)
        _decide(pending, ClosureRequest.State.REJECTED, by=by, note=note, request=request)
        return pending


def reinstate(customer, *, by, note: str, request=None) -> Closure | None:
    """A closed, void or archived card returns to active; its closure is kept and marked reverted.

    Returns the reverted closure (None for a card that was never closed through the app, e.g. imported).
    """
    with transaction.atomic():
        locked = rules.lock_card(customer)
        if not by.has_perm("closures.reinstate_closure"):
            raise ValidationError(_("You are not allowed to reinstate cards."), code="permission")
        if locked.is_erased:
            raise ValidationError(_("A deleted card cannot be reinstated: its personal data is gone."), code="erased")
        if locked.status not in REINSTATABLE:
            raise ValidationError(_("This card is already active."), code="status")
        note = (note or "").strip()
        if not note:
            raise ValidationError(_("Write why the card is reinstated."), code="notes")
        rules.check_length(note)
        closure = rules.open_closure(locked)
        if closure is not None:
            closure.reverted_at = timezone.now()
            closure.reverted_by = by
            closure.revert_note = note
            writes.write_closures(reverted=[closure])
        old = locked.status
        writes.set_status([locked], Customer.Status.ACTIVE)
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


# --- Decisions on a request -----------------------------------------------------------------


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
