"""The card-closure workflow: one function per thing a user does to close a card or undo it.

Views, management commands and Celery tasks call these and nothing else to close, void, archive
or reinstate a card, to ask a Manager for a closure, and to approve or reject that request.
Erasure lives in closures/erasure.py and bulk closing in closures/bulk.py; they follow the same
pattern. Each operation

1. opens its transaction with ``rules.guarded``: ``transaction.atomic()``, so the status, the
   closure row and the audit entry are written together or not at all (a failing audit write
   leaves nothing half-done); the card — and the surviving card of a duplicate — locked with
   ``select_for_update()`` in primary-key order and re-read, so two people confirming the same
   card at the same moment are served one after the other and the second one sees the first
   one's result ("already closed by NAME at TIME") instead of adding a second closure; a used
   confirmation (its nonce) refused; the user's permission checked;
2. checks every rule against the locked rows with closures/rules.py (``check_closing`` for close,
   void and archive: status and money unchanged since the preview, no pending request, the reason
   still active and meant for this action, notes where required, an active surviving card) and
   raises ``ValidationError`` with a message a user can read;
3. writes through closures/writes.py: the one place that changes closures and statuses, so the
   dashboard's closure tallies (closures/tally.py) are kept in exactly one spot.

The database backs the locks up: at most one open closure per card and one pending request per
card (partial unique constraints), and a unique nonce per confirmation, so a replay of the same
confirmation can never record a second closure.

What the user chose and saw travels as one frozen ``ClosureChoice`` (closures/rules.py: action,
reason, notes, the settlement and its details, duplicate_of, seen, nonce, merge; closures/settlement.py
settles the money inside the same transaction, before the status changes). Voiding a duplicate
with ``merge`` first moves its purchases, interactions, tags, missing contact fields, balance and
points onto the surviving card (customers.merge.merge_into), under the same locks and in the same
transaction: the ledger transfer is then the settlement. Approving a request performs the merge
and the settlement it asked for. Signatures:

    approval_needed(customer, user, settings=None) -> bool
    confirm_closure(customer, choice, *, by, request=None) -> Closure | ClosureRequest
    close_customer(customer, choice, *, by, request=None) -> Closure
    request_closure(customer, choice, *, by, request=None) -> ClosureRequest
    approve(closure_request, *, by, note="", request=None) -> Closure
    reject(closure_request, *, by, note, request=None) -> ClosureRequest
    withdraw(closure_request, *, by, note="", request=None) -> ClosureRequest
    reinstate(customer, *, by, note, request=None, data=None) -> Closure | None

and, in their own modules:

    erasure.erase_customer(customer, choice, *, by, confirmation, request=None) -> Closure
    bulk.bulk_close(customer_ids, choice, *, by, request=None) -> BulkResult
    batch.decide_many(ids, *, by, approving, note, request=None) -> BatchResult

A request made, approved or rejected is also an event in the outbox (crm/outbox.py:
``closure.requested``, ``closure.approved``, ``closure.rejected``; a withdrawal is not), written in
the operation's transaction, so integrations hear of it only once it commits.

A decided request tells its requester: the inbox's count in every page's header (crm/inbox.py,
closures/inbox.py) and, once the decision is committed, an e-mail (closures/notify.py).

``customer`` may be a Customer or its primary key; ``closure_request`` a ClosureRequest or its
primary key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit, inbox, outbox
from crm.formatting import money
from customers import merge
from customers.models import Customer

from . import notify, rules, tickets, writes
from .models import Closure, ClosureReason, ClosureRequest
from .rules import REINSTATABLE, ClosureChoice, LockedCards, approval_needed

__all__ = [
    "ClosureChoice",
    "approval_needed",
    "approve",
    "close_customer",
    "confirm_closure",
    "reinstate",
    "reject",
    "request_closure",
    "withdraw",
]


def confirm_closure(customer, choice: ClosureChoice, *, by, request=None) -> Closure | ClosureRequest:
    """What "Confirm" does for close / void / archive: close now, or ask a Manager when approval applies.

    Decided under the row lock, so a setting switched on between preview and confirmation applies.
    """
    with rules.guarded([customer, *choice.cards], by=by, may="close") as cards:
        locked = cards[_pk(customer)]
        if approval_needed(locked, by):
            return request_closure(locked, choice, by=by, request=request)
        return close_customer(locked, choice, by=by, request=request)


def close_customer(customer, choice: ClosureChoice, *, by, request=None) -> Closure:
    """Close a card (销卡), void a record (作废) or archive it (归档), now.

    Refused when the user's closures of this card need approval (use ``confirm_closure`` or
    ``request_closure``); Managers approving a request go through ``approve``.
    """
    with rules.guarded([customer, *choice.cards], by=by, may="close", nonce=choice.nonce) as cards:
        locked, reason, survivor = _checked(cards, _pk(customer), choice)
        if approval_needed(locked, by):
            raise ValidationError(_("Closing this card needs a Manager's approval."), code="approval")
        if survivor is None:
            tickets.check(locked, choice)
        target = cards.get(choice.settle_to_id)
        return _close(locked, choice, by=by, reason=reason, survivor=survivor, request=request, settle_to=target)


def request_closure(customer, choice: ClosureChoice, *, by, request=None) -> ClosureRequest:
    """Ask a Manager to close, void or archive a card (approval switched on); the card stays active.

    The request keeps the balance and points seen, so approving refuses if the money changed.
    """
    with rules.guarded([customer, *choice.cards], by=by, may="close", nonce=choice.nonce) as cards:
        locked, reason, survivor = _checked(cards, _pk(customer), choice)
        pending = writes.save_request(locked, choice, by=by, reason=reason, duplicate_of=survivor, request=request)
        _announce("closure.requested", pending, actor=by)
        return pending


def approve(closure_request: ClosureRequest | int, *, by, note: str = "", request=None) -> Closure:
    """A Manager approves a pending request: the closure is performed now, recording who asked.

    Someone else than the requester decides; the card must still be active with the balance and
    points the requester saw, and the surviving card of a duplicate (locked too) still active. The
    settlement the request asked for (refund, transfer to a card locked too, forfeit, keep) is applied.
    """
    with _deciding(closure_request, by=by) as (pending, cards):
        rules.check_decision(pending, by=by, note=note, rejecting=False)
        locked = cards[pending.customer_id]
        if not locked.is_active:
            raise rules.not_active(locked)
        _check_money_unchanged(locked, pending)
        reason = rules.check_reason(pending.reason_id, pending.action)
        rules.check_notes(reason, pending.notes)
        survivor = rules.check_duplicate(locked, reason, pending.duplicate_of_id, cards.get(pending.duplicate_of_id))
        rules.check_merge(pending.merge, survivor)
        choice = _requested_choice(pending, reason, survivor)
        target = cards.get(pending.settled_to_id)
        rules.check_money(locked, choice, target)
        asked_by = pending.requested_by
        closure = _close(
            locked,
            choice,
            by=by,
            reason=reason,
            survivor=survivor,
            requested_by=asked_by,
            request=request,
            settle_to=target,
        )
        _decide(pending, ClosureRequest.State.APPROVED, by=by, note=note, closure=closure, request=request)
        return closure


def reject(closure_request: ClosureRequest | int, *, by, note: str, request=None) -> ClosureRequest:
    """A Manager other than the requester rejects a pending request with a note the requester will see."""
    with _deciding(closure_request, by=by) as (pending, _cards):
        rules.check_decision(pending, by=by, note=note, rejecting=True)
        _decide(pending, ClosureRequest.State.REJECTED, by=by, note=note, request=request)
        return pending


def withdraw(closure_request: ClosureRequest | int, *, by, note: str = "", request=None) -> ClosureRequest:
    """The requester takes back their pending request: the card stays as it is, nobody needs to decide,
    and a new request of the card may be made (only a pending request blocks one).

    Locked as approve and reject lock (the cards, then the request), so a withdrawal and a decision
    of the same request are served one after the other and the second one is refused.
    """
    with _deciding(closure_request, by=by, may="close") as (pending, _cards):
        rules.check_withdrawal(pending, by=by, note=note)
        _decide(pending, ClosureRequest.State.WITHDRAWN, by=by, note=note, request=request)
        return pending


def reinstate(customer, *, by, note: str, request=None, data: dict | None = None) -> Closure | None:
    """A closed, void or archived card returns to active; its closure is kept and marked reverted.

    ``data`` adds details to the audit entry: a higher app that caused the reinstatement names itself
    there (followups: ``{"won_back": "callback", "followup": id}``, shown as "Won back by a callback").
    Returns the reverted closure (None for a card that was never closed through the app, e.g. imported).
    """
    with rules.guarded([customer], by=by, may="reinstate") as cards:
        locked = cards[_pk(customer)]
        note = _reinstatable(locked, note)
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
            changes={"status": [old, Customer.Status.ACTIVE.value]},
            notes=note,
            data={**({"reason": closure.reason_id} if closure else {}), **(data or {})},
        )
        return closure


# --- Helpers ----------------------------------------------------------------------------------------


def _requested_choice(pending: ClosureRequest, reason: ClosureReason, survivor) -> ClosureChoice:
    """The choice a request stored, settlement included, as approving performs it."""
    return ClosureChoice(
        pending.action,
        reason,
        notes=pending.notes,
        settlement_note=pending.settlement_note,
        duplicate_of=survivor,
        settlement=pending.settlement,
        settlement_method=pending.settlement_method,
        refund_amount=pending.settled_amount,
        settle_to=pending.settled_to_id,
        forfeit_reason=pending.forfeit_reason,
        merge=pending.merge,
    )


def _pk(customer) -> int:
    return int(getattr(customer, "pk", customer))


def _close(
    locked: Customer, choice: ClosureChoice, *, by, reason, survivor, requested_by=None, request=None, settle_to=None
):
    """The closure itself; a merge first moves the duplicate's records onto the survivor (both locked),
    its balance and points included: that transfer is the settlement the closure records."""
    merged = bool(choice.merge and survivor is not None)
    moved = (locked.balance, locked.points)
    # The open tickets are settled as chosen; a duplicate's tickets all move to the survivor, before
    # a merge (whose ticket mover then finds none): closures/tickets.py.
    open_now = () if survivor is not None else tickets.open_ids(locked)
    ticket_data = tickets.settle(locked, choice, open_now, by=by, survivor=survivor, request=request)
    if merged:
        merge.merge_into(locked, survivor, by=by, request=request)
    return writes.close(
        locked,
        choice,
        by=by,
        reason=reason,
        duplicate_of=survivor,
        requested_by=requested_by,
        request=request,
        merged=moved if merged else None,
        settle_to=settle_to,
        data=ticket_data,
    )


def _checked(cards: LockedCards, pk: int, choice: ClosureChoice) -> tuple[Customer, ClosureReason, Customer | None]:
    """Read what the rules need for one locked card and check them (rules.check_closing)."""
    locked = cards[pk]
    reason = rules.fresh_reason(choice.reason_id)
    survivor = rules.check_closing(
        locked,
        choice,
        reason=reason,
        pending=rules.pending_requests([pk]).get(pk),
        survivor=cards.get(choice.duplicate_of_id),
        closure=None if locked.is_active else rules.open_closure(locked),
        settle_to=cards.get(choice.settle_to_id),
    )
    return locked, reason, survivor


@contextmanager
def _deciding(closure_request, *, by, may: str = "decide") -> Iterator[tuple[ClosureRequest, LockedCards]]:
    """The head of approve, reject and withdraw: the request's card (and surviving card) locked, then the request.

    Cards before the request, as every operation locks (closures/rules.py); the request is locked
    alone (``of=("self",)``), not the users and reason read with it.
    """
    pk = getattr(closure_request, "pk", closure_request)
    card_ids = ClosureRequest.objects.values_list("customer_id", "duplicate_of_id", "settled_to_id").get(pk=pk)
    with rules.guarded(card_ids, by=by, may=may) as cards:
        related = ("requested_by", "decided_by", "reason")
        pending = ClosureRequest.objects.select_for_update(of=("self",)).select_related(*related).get(pk=pk)
        yield pending, cards


def _check_money_unchanged(locked: Customer, pending: ClosureRequest) -> None:
    if locked.balance != pending.balance_seen or locked.points != pending.points_seen:
        raise ValidationError(
            _(
                "The card's balance or points changed since the request (was %(old_balance)s and "
                "%(old_points)s points, now %(balance)s and %(points)s points). Reject this request "
                "and ask for a new one."
            )
            % {
                "old_balance": money(pending.balance_seen),
                "old_points": pending.points_seen,
                "balance": money(locked.balance),
                "points": locked.points,
            },
            code="stale",
        )


def _reinstatable(locked: Customer, note: str) -> str:
    """The note, once the card is known to be reinstatable."""
    if locked.is_erased:
        raise ValidationError(_("A deleted card cannot be reinstated: its personal data is gone."), code="erased")
    if locked.status not in REINSTATABLE:
        raise ValidationError(_("This card is already active."), code="status")
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Write why the card is reinstated."), code="notes")
    rules.check_length(note)
    return note


DECISION_EVENTS = {
    ClosureRequest.State.APPROVED: "closure.approved",
    ClosureRequest.State.REJECTED: "closure.rejected",
}


def request_event_payload(pending: ClosureRequest) -> dict:
    """What a closure.* event says of a request: ids and codes, never notes or personal data."""
    return {
        "request": pending.pk,
        "action": pending.action,
        "reason": pending.reason_id,
        "state": pending.state,
        "closure": pending.closure_id,
        "requested_by": pending.requested_by_id,
    }


def _announce(event_type: str, pending: ClosureRequest, *, actor) -> None:
    """The request's event in the outbox (crm/outbox.py), in the operation's transaction."""
    outbox.emit(
        event_type,
        obj=pending,
        object_type="closurerequest",
        customer_id=pending.customer_id,
        actor=actor,
        payload=request_event_payload(pending),
    )


def _decide(pending: ClosureRequest, state, *, by, note, closure=None, request=None) -> None:
    """Record the outcome (approved, rejected, or withdrawn by its requester), audit it, tell the inbox
    and, for a decision, the requester by e-mail after the commit."""
    pending.state = state
    pending.decided_by = by
    pending.decided_at = timezone.now()
    pending.decision_note = (note or "").strip()
    pending.closure = closure
    pending.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "closure"])
    action = {
        ClosureRequest.State.APPROVED: "closure.approve",
        ClosureRequest.State.REJECTED: "closure.reject",
        ClosureRequest.State.WITHDRAWN: "closure.withdraw",
    }[state]
    withdrawn = state == ClosureRequest.State.WITHDRAWN
    audit.record(
        action,
        actor=by,
        request=request,
        obj=pending,
        object_type="closurerequest",
        customer_id=pending.customer_id,
        changes={"state": [ClosureRequest.State.PENDING.value, state.value]} if withdrawn else None,
        notes=pending.decision_note,
        data={"action": pending.action, "reason": pending.reason_id},
    )
    inbox.changed("closures.approvals")
    inbox.changed("closures.decided", users=[pending.requested_by_id])
    if state in DECISION_EVENTS:
        _announce(DECISION_EVENTS[state], pending, actor=by)
    if not withdrawn:
        notify.tell_requester_after_commit(pending, request=request)
