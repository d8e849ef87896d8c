"""The closure rules: what a user chose, how an operation takes its locks, and every check it makes.

closures.operations, closures.erasure and closures.bulk open their transaction with
:func:`guarded` (the cards locked, a used confirmation refused, the permission checked), then
check the locked rows with the functions below: each raises ``ValidationError`` with a message a
user can read (who did what and when, what changed since the preview, what is missing). Nothing
here writes (closures/writes.py does).

**One copy of the closing rules.** :func:`check_closing` is every rule of close / void / archive
for one card, and the single-card flow and bulk closing both call it. It reads nothing: the caller
passes what it needs, read under the lock (the reason as it is now, the card's pending request,
its open closure, the locked surviving card of a duplicate). :func:`pending_requests` and
:func:`open_closures` read those for any number of cards in one query each, so a 5,000-card bulk
closure checks every card the way one card is checked, in a fixed number of queries.

**One lock order.** Every operation locks customer rows first, all of them in primary-key order
(:func:`lock_cards`, through ``Customer.objects.lock``: the card and the surviving card of a
duplicate, or a whole bulk selection), and only then, when deciding a request, that closure
request row. No operation locks a card after a request, so two operations never wait on each
other in a circle. The import locks the cards it names through the same queryset method
(customers.imports.operation.lock_existing_cards), so it and bulk closing never deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.formatting import money
from customers.models import Customer

from . import settlement
from .models import Action, BulkClosure, Category, Closure, ClosureReason, ClosureRequest, ClosureSettings

MAX_NOTES = 1000
CLOSING_ACTIONS = (Action.CLOSE, Action.VOID, Action.ARCHIVE)
REINSTATABLE = (Customer.Status.CLOSED, Customer.Status.VOID, Customer.Status.ARCHIVED)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Seen:
    """What the user saw on one card's preview; confirming refuses when the card has changed since."""

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


def version(customer: Customer) -> int:
    """A card's version: its ``updated_at`` in whole microseconds (exact, unlike a float timestamp)."""
    return (customer.updated_at - _EPOCH) // dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class ClosureChoice:
    """What the user chose and saw: the one argument every closure operation takes.

    Built from the signed preview (closures/tokens.py); without one (seeding, tests) ``seen`` and ``nonce`` stay out.
    - ``action``: close, void, archive (or erase, for erase_customer);
    - ``reason``: a ClosureReason or its primary key; ``notes`` as typed;
    - ``settlement``: how money is settled (Settlement: refund, transfer, forfeit, keep; rules in
      closures/settlement.py), with ``settlement_method`` (a refund's LedgerEntry.Method), ``refund_amount``
      (None: all), ``settle_to`` (a transfer's card or pk), ``forfeit_reason``, ``settlement_note``;
    - ``duplicate_of``: the surviving card (or its primary key) of a record voided as a duplicate;
    - ``merge``: with ``duplicate_of``, first move the record's history and money onto it (customers.merge);
    - ``seen``: what the preview showed — a :class:`Seen` for one card, or for a bulk closure
      ``{card pk: version}`` (:func:`version`) of every card listed;
    - ``nonce``: the confirmation's one-time number, stored under a unique constraint;
    - ``tickets``: what becomes of the card's open tickets (closures/tickets.py: resolve, cancel, keep)
      with ``tickets_note``; ``tickets_seen`` the ones the preview listed (None: no preview, they stay open).
    """

    action: str
    reason: object
    notes: str = ""
    settlement_note: str = ""
    duplicate_of: object = None
    seen: Seen | Mapping[int, int] | None = None
    nonce: str | None = None
    merge: bool = False
    settlement: str = ""
    settlement_method: str = ""
    refund_amount: Decimal | None = None
    settle_to: object = None
    forfeit_reason: str = ""
    tickets: str = ""
    tickets_note: str = ""
    tickets_seen: tuple[int, ...] | None = None

    @property
    def reason_id(self) -> int | None:
        return getattr(self.reason, "pk", self.reason)

    @property
    def duplicate_of_id(self) -> int | None:
        return getattr(self.duplicate_of, "pk", self.duplicate_of)

    @property
    def settle_to_id(self) -> int | None:
        return getattr(self.settle_to, "pk", self.settle_to)

    @property
    def cards(self) -> list:
        """The cards an operation on one card locks besides it: the surviving and the receiving card."""
        return [self.duplicate_of_id, self.settle_to_id]


# --- Locks and the guarded transaction -------------------------------------------------------------


def lock_cards(cards: Iterable) -> list[Customer]:
    """The customer rows (Customers or primary keys; None and repeats ignored), locked until the
    transaction ends and read as they are now, in primary-key order.

    The one way the closure operations lock cards: one statement, rows locked in primary-key order,
    so two operations locking overlapping cards wait for each other instead of deadlocking. A card
    that does not exist is left out.
    """
    return Customer.objects.lock(getattr(card, "pk", card) for card in cards if card is not None)


class LockedCards(dict):
    """The cards :func:`guarded` locked, by primary key; ``cards[pk]`` of a card that does not exist
    raises Customer.DoesNotExist, as ``Customer.objects.get`` would."""

    def __missing__(self, pk):
        raise Customer.DoesNotExist(f"No customer {pk}")


# Who may do what: (the permissions needed, the refusal when one is missing).
MAY = {
    "close": (("closures.add_closure",), gettext_lazy("You are not allowed to close, void or archive cards.")),
    "bulk": (
        ("closures.bulk_close", "closures.add_closure"),
        gettext_lazy("You are not allowed to close, void or archive cards in bulk."),
    ),
    "erase": (("closures.erase_customer",), gettext_lazy("Only an Admin can delete a card's personal data.")),
    "reinstate": (("closures.reinstate_closure",), gettext_lazy("You are not allowed to reinstate cards.")),
    "decide": (
        ("closures.decide_closurerequest",),
        gettext_lazy("You are not allowed to approve or reject closure requests."),
    ),
}


@contextmanager
def guarded(cards: Iterable, *, by, may: str, nonce: str | None = None) -> Iterator[LockedCards]:
    """The common head of every closure operation; the ``with`` block is its transaction.

    1. ``transaction.atomic()``: everything the operation writes, audit entries included, lands
       together or not at all;
    2. the cards locked in primary-key order (:func:`lock_cards`) and re-read, so two people
       confirming at once are served one after the other and the second sees the first's result;
    3. a confirmation already used refused (:func:`refuse_replay`) — checked after the lock, so a
       double click waits for the first click to commit and then finds its nonce;
    4. the user's permission for ``may`` (a key of ``MAY``) checked.

    Yields the locked cards by primary key.
    """
    permissions, refusal = MAY[may]
    with transaction.atomic():
        locked = LockedCards((card.pk, card) for card in lock_cards(cards))
        refuse_replay(nonce)
        if not by.has_perms(permissions):
            raise ValidationError(str(refusal), code="permission")
        yield locked


def refuse_replay(nonce: str | None) -> None:
    """A confirmation already used (double click, refresh, back button, replay) records nothing new."""
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
    run = BulkClosure.objects.filter(nonce=nonce).select_related("performed_by").first()
    if run is not None:
        raise ValidationError(
            _("This bulk closure was already confirmed by %(name)s at %(time)s; nothing more was changed.")
            % {"name": who(run.performed_by), "time": when(run.performed_at)},
            code="already",
        )


# --- What the rules read, for any number of cards in one query -------------------------------------


def fresh_reason(reason) -> ClosureReason | None:
    """The reason (or its primary key) as it is now in the database; None when there is none."""
    return ClosureReason.objects.filter(pk=getattr(reason, "pk", reason)).first()


def pending_requests(ids: Iterable[int]) -> dict[int, ClosureRequest]:
    """The pending request of each card that has one (at most one per card: a constraint)."""
    pending = ClosureRequest.objects.filter(customer_id__in=list(ids), state=ClosureRequest.State.PENDING)
    return {r.customer_id: r for r in pending.select_related("requested_by")}


def open_closures(ids: Iterable[int]) -> dict[int, Closure]:
    """The open (not reverted) closure of each card that has one (at most one per card: a constraint)."""
    closures = Closure.objects.open().filter(customer_id__in=list(ids)).select_related("reason", "performed_by")
    return {c.customer_id: c for c in closures}


def approval_needed(customer: Customer, user, settings: ClosureSettings | None = None) -> bool:
    """Whether ``user``'s closure of ``customer`` must wait for a Manager (Managers and Admins never do).

    Pass ``settings`` (ClosureSettings.load()) when asking for many cards, to read them once.
    """
    if user.has_perm("closures.decide_closurerequest"):
        return False
    return (settings or ClosureSettings.load()).needs_approval(customer)


# --- Messages ----------------------------------------------------------------------------------------


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
    return open_closures([customer.pk]).get(customer.pk)


_LOOK_IT_UP = object()


def not_active(customer: Customer, closure=_LOOK_IT_UP) -> ValidationError:
    """Why a card that is no longer active cannot be closed: who did what, and when.

    ``closure`` is the card's open closure when the caller has read it (open_closures); left out,
    it is looked up.
    """
    if customer.is_erased:
        return ValidationError(
            _("This card's personal data has already been deleted; nothing was changed."), code="erased"
        )
    if closure is _LOOK_IT_UP:
        closure = open_closure(customer)
    if closure is not None:
        return ValidationError(already_message(closure), code="already")
    return ValidationError(
        _("This card is not active (status: %(status)s); nothing was changed.")
        % {"status": customer.get_status_display()},
        code="status",
    )


# --- The rules ---------------------------------------------------------------------------------------


def check_closing(
    locked: Customer,
    choice: ClosureChoice,
    *,
    reason: ClosureReason | None,
    pending: ClosureRequest | None,
    survivor: Customer | None,
    closure: Closure | None = None,
    settle_to: Customer | None = None,
) -> Customer | None:
    """Every rule of close / void / archive for one locked card: the only copy, for one card or bulk.

    Reads nothing. ``reason`` is the chosen reason as it is now (:func:`fresh_reason`), ``pending``
    the card's pending request (:func:`pending_requests`), ``survivor`` the locked surviving card
    of a duplicate, ``closure`` the open closure of a card that is not active
    (:func:`open_closures`), so the refusal can say who closed it and when, and ``settle_to`` the
    locked card receiving a transfer (closures/settlement.py checks the money). Returns the surviving
    card when the reason is about a duplicate (None otherwise).
    """
    if choice.action not in CLOSING_ACTIONS:
        raise ValidationError(_("Choose close, void or archive."), code="action")
    if not locked.is_active:
        raise not_active(locked, closure)
    if pending is not None:
        raise ValidationError(
            _("A closure of this card, requested by %(name)s at %(time)s, is waiting for a Manager's approval.")
            % {"name": who(pending.requested_by), "time": when(pending.requested_at)},
            code="pending",
        )
    check_seen(locked, choice.seen)
    reason = check_reason_fits(reason, choice.action)
    check_notes(reason, choice.notes)
    survivor = check_duplicate(locked, reason, choice.duplicate_of_id, survivor)
    check_merge(choice.merge, survivor)
    check_money(locked, choice, settle_to)
    return survivor


def check_merge(merge: bool, survivor: Customer | None) -> None:
    """Merging needs the surviving card of a duplicate (check_duplicate has checked it is active)."""
    if merge and survivor is None:
        raise ValidationError(
            _("Only a record voided as a duplicate of another card can be merged into it."), code="merge"
        )


def check_seen(locked: Customer, seen: Seen | Mapping[int, int] | None) -> None:
    """Refuse when the card changed between the preview and the confirmation."""
    if seen is None:
        return
    if isinstance(seen, Mapping):  # a bulk preview: each card's version
        if seen.get(locked.pk) != version(locked):
            raise _changed_by_someone_else()
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
                "old_balance": money(seen.balance),
                "old_points": seen.points,
                "balance": money(locked.balance),
                "points": locked.points,
            },
            code="stale",
        )
    if locked.updated_at.isoformat() != seen.updated_at:
        raise _changed_by_someone_else()


def _changed_by_someone_else() -> ValidationError:
    return ValidationError(
        _("The card was changed by someone else after your preview. Nothing was changed; review it and start again."),
        code="stale",
    )


def check_reason(reason, action: str) -> ClosureReason:
    """The reason (or its primary key) as it is now: still active and meant for this action."""
    return check_reason_fits(fresh_reason(reason), action)


def check_reason_fits(fresh: ClosureReason | None, action: str) -> ClosureReason:
    """A reason read as it is now (:func:`fresh_reason`) is still active and meant for this action."""
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


def check_duplicate(
    locked: Customer, reason: ClosureReason, duplicate_of_id: int | None, survivor: Customer | None
) -> Customer | None:
    """Void as duplicate: the surviving card, locked with this one, must be another card and active.

    Returns the survivor (None when the reason is not about a duplicate).
    """
    if reason.category != Category.DUPLICATE:
        return None
    if not duplicate_of_id:
        raise ValidationError(_("Give the customer number of the card this one duplicates."), code="duplicate")
    if duplicate_of_id == locked.pk:
        raise ValidationError(_("A card cannot be a duplicate of itself."), code="duplicate")
    if survivor is None:
        raise ValidationError(
            _("The surviving card no longer exists; nothing was changed. Choose the active card that stays."),
            code="duplicate",
        )
    if not survivor.is_active:
        raise ValidationError(
            _(
                "The surviving card %(number)s is %(status)s, not active; nothing was changed. "
                "Choose the active card that stays."
            )
            % {"number": survivor.customer_no, "status": survivor.get_status_display().lower()},
            code="duplicate",
        )
    return survivor


def check_money(locked: Customer, choice: ClosureChoice, settle_to: Customer | None = None) -> None:
    """A card with a stored-value balance or points closes only with a settlement that fits it
    (closures/settlement.py: refund, transfer to the locked ``settle_to``, forfeit; keep when archiving).

    A merge into the surviving card (``choice.merge``, checked by :func:`check_merge`) transfers
    them (customers.merge), which settles them.
    """
    check_length(choice.settlement_note)
    if choice.merge:
        return
    settlement.check(locked, choice, settle_to)


def check_decision(pending: ClosureRequest, *, by, note: str, rejecting: bool) -> None:
    """A request is decided once, by someone other than its requester; a rejection says why."""
    _check_still_pending(pending)
    if pending.requested_by_id == by.pk:
        raise ValidationError(_("You asked for this closure; another Manager must decide it."), code="own")
    if rejecting and not (note or "").strip():
        raise ValidationError(_("Write why the request is rejected; the requester will see it."), code="notes")
    check_length(note)


def check_withdrawal(pending: ClosureRequest, *, by, note: str) -> None:
    """Only the requester withdraws a request, and only while it waits for a decision."""
    if pending.requested_by_id != by.pk:
        raise ValidationError(
            _("Only %(name)s, who asked for this closure, can withdraw the request.")
            % {"name": who(pending.requested_by)},
            code="not_yours",
        )
    _check_still_pending(pending)
    check_length(note)


def _check_still_pending(pending: ClosureRequest) -> None:
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
