"""The one place closures are written, with the dashboard's tallies (closures/tally.py) kept in step.

closures.operations, closures.erasure and closures.bulk check their rules (closures/rules.py)
and then write through these functions, and nothing else: ``write_closures`` writes closure rows
and the tallies together, ``set_status`` changes card statuses, ``close`` writes one card's
closure with (unless the caller writes its own) the new status and the audit entry,
``save_request`` a closure request with its audit entry, ``withdraw_requests`` withdraws a card's
pending requests (one audit entry each; both tell the inbox, crm/inbox.py, what changed),
``record_bulk_closures`` writes a bulk closure's audit entries in batches
(``record_imported_closures`` an import's), ``save_bulk_run`` records a bulk confirmation's nonce,
``save_new`` turns a lost race on a unique constraint into a readable refusal, and
``follow_owners`` moves closures' ``card_owner`` when their card changes hands.

Every function expects to run inside the caller's transaction (closures.rules.guarded) and on
cards the caller has locked (closures.rules.lock_cards); none opens the outer transaction or takes
a lock itself.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import audit, inbox, outbox
from customers import ledger
from customers.gate import Source
from customers.models import Customer

from . import rules, settlement, signals, tally, ticket_flags
from .models import ACTION_STATUS, BulkClosure, Category, Closure, ClosureRequest
from .rules import ClosureChoice


def new_closure(
    customer: Customer,
    choice: ClosureChoice,
    *,
    by,
    reason,
    duplicate_of=None,
    requested_by=None,
    nonce=None,
    performed_at=None,
) -> Closure:
    """An unsaved closure of ``choice`` with the card's segment, owner, tenure and money copied as they are now.

    ``reason`` is the ClosureReason as checked; ``nonce`` is left to the caller (a bulk closure's
    closures share one confirmation, recorded once in BulkClosure). ``performed_at`` is now unless
    a historical closure is being imported. Tenure counts local days from the card's "customer since".
    """
    now = performed_at or timezone.now()
    closed_on = timezone.localtime(now, timezone.get_default_timezone()).date()
    return Closure(
        customer=customer,
        action=choice.action,
        reason=reason,
        category=reason.category,
        notes=(choice.notes or "").strip(),
        settlement_note=(choice.settlement_note or "").strip(),
        duplicate_of=duplicate_of,
        previous_status=customer.status,
        balance_at_closure=customer.balance,
        points_at_closure=customer.points,
        segment=customer.segment,
        owner_id=customer.owner_id,
        card_owner_id=customer.owner_id,
        tenure_days=max((closed_on - customer.customer_since).days, 0),
        customer_since=customer.customer_since,
        performed_by=by,
        performed_at=now,
        requested_by=requested_by,
        nonce=nonce or None,
    )


def close(
    locked: Customer,
    choice: ClosureChoice,
    *,
    by,
    reason,
    duplicate_of=None,
    requested_by=None,
    request=None,
    record=True,
    merged=None,
    settle_to=None,
    data: dict | None = None,
) -> Closure:
    """One closure (with the choice's nonce), the new status and (unless the caller writes its own) the audit entry.

    The card's money is settled first (closures/settlement.py: the ledger entries on the locked
    card and on ``settle_to``, the locked card receiving a transfer), so the closure records the
    balance and points at closure and how they were settled. ``merged``: the card's records were
    just moved onto ``duplicate_of`` (customers.merge), with ``merged`` = (balance, points) it held
    before: the merge's transfer is the settlement.
    """
    duplicate_of = duplicate_of if reason.category == Category.DUPLICATE else None
    closure = new_closure(
        locked,
        choice,
        by=by,
        reason=reason,
        duplicate_of=duplicate_of,
        requested_by=requested_by,
        nonce=choice.nonce,
    )
    if merged is not None and duplicate_of is not None:
        closure.merged = True
        closure.balance_at_closure, closure.points_at_closure = merged
        if any(merged):
            settlement.apply(closure, settlement.merged(duplicate_of, *merged))
    settlement.apply(closure, settlement.settle(locked, choice, settle_to, by=by, request=request))
    write_closures(new=[closure])
    if record:
        set_status([locked], ACTION_STATUS[choice.action])
        _record_closure(closure, request=request, data=data)
    return closure


def save_request(locked: Customer, choice: ClosureChoice, *, by, reason, duplicate_of=None, request=None):
    """A pending closure request with its audit entry; it keeps the balance and points seen."""
    closure_request = ClosureRequest(
        customer=locked,
        action=choice.action,
        reason=reason,
        notes=(choice.notes or "").strip(),
        settlement_note=(choice.settlement_note or "").strip(),
        duplicate_of=duplicate_of if reason.category == Category.DUPLICATE else None,
        merge=bool(choice.merge and duplicate_of and reason.category == Category.DUPLICATE),
        requested_by=by,
        nonce=choice.nonce or None,
        balance_seen=locked.balance,
        points_seen=locked.points,
        language=translation.get_language() or "",
        **requested_settlement(locked, choice),
    )
    save_new(closure_request)
    inbox.changed("closures.approvals")
    audit.record(
        "closure.request",
        actor=by,
        request=request,
        obj=closure_request,
        object_type="closurerequest",
        customer_id=locked.pk,
        notes=closure_request.notes,
        data={"action": choice.action, "reason": reason.pk, **({"merge": True} if closure_request.merge else {})},
    )
    return closure_request


def requested_settlement(locked: Customer, choice: ClosureChoice) -> dict:
    """The settlement a request asks for (approving applies it): empty for a card without money."""
    if not settlement.has_money(locked):
        return {}
    return {
        "settlement": choice.settlement,
        "settlement_method": choice.settlement_method or "",
        "settled_amount": None if choice.refund_amount in (None, "") else choice.refund_amount,
        "settled_to_id": choice.settle_to_id,
        "forfeit_reason": (choice.forfeit_reason or "").strip(),
    }


def withdraw_requests(locked: Customer, *, by, why: str, request=None) -> list[ClosureRequest]:
    """Withdraw the card's pending requests, each with its own audit entry saying why (``why``: a code
    that closures.history puts into words, "erased")."""
    pending = list(
        ClosureRequest.objects.filter(customer_id=locked.pk, state=ClosureRequest.State.PENDING).select_related(
            "reason"
        )
    )
    now = timezone.now()
    for closure_request in pending:
        closure_request.state = ClosureRequest.State.WITHDRAWN
        closure_request.decided_at = now
        closure_request.save(update_fields=["state", "decided_at"])
        audit.record(
            "closure.withdraw",
            actor=by,
            request=request,
            obj=closure_request,
            object_type="closurerequest",
            customer_id=locked.pk,
            changes={"state": [ClosureRequest.State.PENDING.value, ClosureRequest.State.WITHDRAWN.value]},
            data={"action": closure_request.action, "reason": closure_request.reason_id, "withdrawn_because": why},
        )
    if pending:
        inbox.changed("closures.approvals")
        inbox.changed("closures.decided", users=[r.requested_by_id for r in pending])
    return pending


def _closure_entry(closure: Closure, *, bulk: bool = False) -> dict:
    """The audit entry of one closure, as keyword arguments of crm.audit.record: data, not words
    (closures.history puts them into the reader's language; the notes stay as typed)."""
    changes = {"status": [closure.previous_status, ACTION_STATUS[closure.action].value]}
    if closure.duplicate_of_id:
        changes["duplicate_of"] = [None, closure.duplicate_of.customer_no]
    data = {"reason": closure.reason_id}
    if closure.requested_by_id:
        data["requested_by"] = rules.who(closure.requested_by)
    if bulk:
        data["bulk"] = True
    if closure.merged:
        data["merged"] = True
    if closure.settlement_note:
        data["settlement"] = closure.settlement_note
    if closure.settlement:
        data["settled"] = {
            "how": closure.settlement,
            "method": closure.settlement_method,
            "amount": str(closure.settled_amount),
            "points": closure.settled_points,
            "to": closure.settled_to.customer_no if closure.settled_to_id else "",
        }
    return {
        "actor": closure.performed_by,
        "obj": closure,
        "customer_id": closure.customer_id,
        "changes": changes,
        "notes": closure.notes,
        "data": data,
    }


def _record_closure(closure: Closure, *, request=None, data: dict | None = None) -> None:
    entry = _closure_entry(closure)
    entry["data"].update(data or {})
    audit.record(f"closure.{closure.action}", request=request, **entry)


def record_bulk_closures(closures: list[Closure], *, by, request=None) -> None:
    """The audit entries of a bulk closure, written at once (crm.audit.record_many): thousands of
    single inserts would take seconds inside the transaction that holds the row locks."""
    entries = []
    for closure in closures:
        entry = _closure_entry(closure, bulk=True)
        del entry["actor"], entry["obj"]
        entries.append(
            {**entry, "action": f"closure.{closure.action}", "object_type": "closure", "object_id": closure.pk}
        )
    audit.record_many(entries, actor=by, request=request)


def record_imported_closures(
    closures: list[Closure], *, by, file_name: str, lines: dict[int, int], request=None
) -> None:
    """The audit entries of historical closures imported from a file, one per card, written at once.

    The entry's actor is the importing user and its time the import's; its data names the file and
    the line (``lines``: card pk -> line), the historical moment, and who performed the closure when
    that was someone else (a user, or the name the file gave: ``performed_by_name``).
    """
    entries = []
    for closure in closures:
        entry = _closure_entry(closure)
        del entry["actor"], entry["obj"]
        entry["data"]["source"] = Source("import", file_name, lines.get(closure.customer_id)).as_data()
        entry["data"]["performed_at"] = closure.performed_at.isoformat()
        if closure.performed_by_name or closure.performed_by_id != by.pk:
            entry["data"]["performed_by"] = closure.performed_by_name or rules.who(closure.performed_by)
        entries.append(
            {**entry, "action": f"closure.{closure.action}", "object_type": "closure", "object_id": closure.pk}
        )
    audit.record_many(entries, actor=by, request=request)


def save_new(obj) -> None:
    """Insert, turning a lost race on a unique constraint into a readable refusal."""
    try:
        with transaction.atomic():
            obj.save(force_insert=True)
    except IntegrityError as exc:
        raise ValidationError(
            _("Someone else changed this card at the same moment; nothing was changed. Review it and try again."),
            code="conflict",
        ) from exc


def save_bulk_run(run: BulkClosure) -> None:
    """Record a confirmed bulk closure; a second confirmation with the same nonce is refused as a replay."""
    try:
        with transaction.atomic():
            run.save(force_insert=True)
    except IntegrityError as exc:
        rules.refuse_replay(run.nonce)  # the same confirmation committed first: say who and when
        raise ValidationError(
            _("Someone else changed these cards at the same moment; nothing was changed. Try again."),
            code="conflict",
        ) from exc


def write_closures(
    *, new: list[Closure] = (), reverted: list[Closure] = (), erased: list[Closure] = (), announce: bool = True
) -> list[Closure]:
    """The one place that writes closure rows and the dashboard's tallies (closures/tally.py).

    ``new`` are inserted (one statement for a bulk closure), ``reverted`` have their reverted_*
    fields saved, ``erased`` are marked customer_erased and every note on their card's closures
    and requests is wiped (withdraw the card's pending requests first: ``withdraw_requests``).
    The tallies count new closures and move reverted ones to their reverted month; erasure changes
    nothing they count. The tickets of the cards closed ("close") or reinstated get their
    ``closed_within_90`` flag recounted (closures/ticket_flags.py). Callers hold the transaction.

    Each closure made, reverted or erased is also an event in the outbox (crm/outbox.py:
    ``card.closed``, ``card.voided``, ``card.archived``, ``card.reinstated``, ``card.erased``),
    written in the same transaction, so the follow-ups and integrations of later floors hear of it
    only once it commits. ``announce=False`` for historical closures read from a file: they are
    records of the past, not something that just happened to a customer.
    """
    if len(new) == 1:
        save_new(new[0])
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
    ticket_flags.refresh_closures([*new, *reverted])
    for closure in erased:
        closure.customer_erased = True
        closure.notes = closure.settlement_note = closure.forfeit_reason = ""
        closure.save(update_fields=["customer_erased", "notes", "settlement_note", "forfeit_reason"])
        Closure.objects.filter(customer_id=closure.customer_id).update(
            notes="", settlement_note="", revert_note="", forfeit_reason=""
        )
        ClosureRequest.objects.filter(customer_id=closure.customer_id).update(
            notes="", settlement_note="", decision_note="", forfeit_reason=""
        )
        ledger.forget_notes(closure.customer_id)
    if announce:
        _announce(new, reverted, erased)
    return list(new)


EVENT_TYPES = {"close": "card.closed", "void": "card.voided", "archive": "card.archived"}


def event_payload(closure: Closure) -> dict:
    """What an event says of a closure: ids, codes and amounts, never personal data."""
    return {
        "closure": closure.pk,
        "action": closure.action,
        "reason": closure.reason_id,
        "category": closure.category,
        "segment": closure.segment,
        "owner": closure.owner_id,
        "settlement": closure.settlement or "",
        "balance_at_closure": str(closure.balance_at_closure),
        "points_at_closure": closure.points_at_closure,
    }


def _announce(new, reverted, erased) -> None:
    for action, event_type in EVENT_TYPES.items():
        made = [c for c in new if c.action == action]
        if made:
            outbox.emit_many(
                event_type,
                [{"obj": c, "customer_id": c.customer_id, "payload": event_payload(c)} for c in made],
                actor=made[0].performed_by,
            )
    for closure in reverted:
        outbox.emit(
            "card.reinstated",
            obj=closure,
            customer_id=closure.customer_id,
            actor=closure.reverted_by,
            payload=event_payload(closure),
        )
    for closure in erased:
        outbox.emit("card.erased", obj=closure, customer_id=closure.customer_id, payload=event_payload(closure))


def set_status(customers: list[Customer], status: str) -> None:
    """The one place that changes card statuses (kept next to write_closures for the same reason)."""
    if not customers:
        return
    now = timezone.now()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(status=status, updated_at=now)
    for customer in customers:
        customer.status = status
        customer.updated_at = now


def recategorise(old: str, new: str) -> int:
    """Move every closure of category ``old`` to ``new`` and recount the tallies (a category merge,
    closures.category_ops.merge_categories). Returns how many closures moved.

    On PostgreSQL the closure table is locked against writes first (reads go on), so no closure of
    the old category lands between the move and the recount; other closures wait for the commit.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Closure._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
    moved = Closure.objects.filter(category=old).update(category=new)
    tally.rebuild(using=connection.alias)
    signals.recategorised.send(sender=Closure, old=old, new=new, using=connection.alias)
    return moved


def follow_owners(moves: dict[int, tuple[int | None, int | None]]) -> None:
    """Cards changed hands (customers/owners.py): their closures' ``card_owner`` follows, and the
    owner tallies with it (closures/tally.py), so a data scope finds them under the owner the card
    has now. Only active cards change hands, so these are reverted closures. In the change's transaction."""
    owners = {card: new for card, (_old, new) in moves.items()}
    by_owner: dict[int | None, list[int]] = {}
    for card, owner in owners.items():
        by_owner.setdefault(owner, []).append(card)
    for owner, cards in by_owner.items():
        for start in range(0, len(cards), 2000):
            closures = Closure.objects.filter(customer_id__in=cards[start : start + 2000]).exclude(card_owner_id=owner)
            moving = list(closures.only(*MOVED_FIELDS))
            if moving:
                tally.moved(moving, owners, using=connection.alias)
                Closure.objects.filter(pk__in=[c.pk for c in moving]).update(card_owner_id=owner)


# What the tallies' keys read of a closure that moves to another owner.
MOVED_FIELDS = (
    "customer_id",
    "card_owner_id",
    "performed_at",
    "reverted_at",
    "action",
    "reason_id",
    "category",
    "segment",
    "tenure_days",
    "performed_by_id",
)
