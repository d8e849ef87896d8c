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
   and raises ``ValidationError`` with a message a user can read (the checks live in
   closures/rules.py);
4. writes through ``_write_closures`` / ``_set_status``: the two places that change closures and
   statuses, so the dashboard's closure tallies (closures/tally.py) are kept in exactly one spot.

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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit
from crm.models import ERASED_MARKER, AuditEntry
from customers.models import Customer, Interaction

from . import rules, tally
from .models import ACTION_STATUS, Action, Category, Closure, ClosureRequest, ClosureSettings
from .rules import CLOSING_ACTIONS, MAX_NOTES, REINSTATABLE, Seen  # noqa: F401 (part of this module's API)

BULK_LIMIT = 5000

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
        locked = rules.lock_card(customer)
        rules.refuse_replay(nonce)
        if not by.has_perm("closures.erase_customer"):
            raise ValidationError(_("Only an Admin can delete a card's personal data."), code="permission")
        if locked.is_erased:
            raise rules.not_active(locked)
        if (confirmation or "").strip() != locked.customer_no:
            raise ValidationError(
                _("Type the customer number %(number)s exactly to confirm.") % {"number": locked.customer_no},
                code="confirmation",
            )
        rules.check_seen(locked, seen)
        reason = rules.check_reason(reason, Action.ERASE)
        rules.check_notes(reason, notes)
        closure = rules.open_closure(locked)
        if closure is None and locked.is_active:
            rules.check_money(locked, settlement_note, balance_acknowledged)
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
            _new_closure(c, by=by, action=action, reason=reason, notes=notes, settlement_note=settlement_note)
            for c in to_close
        ]
        _write_closures(new=closures)
        _set_status(to_close, ACTION_STATUS[action])
        _record_bulk_closures(closures, request=request)
        result.done = closures
    return result


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
        summary = _("%(action)s, requested by %(name)s") % {"action": summary, "name": rules.who(closure.requested_by)}
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
