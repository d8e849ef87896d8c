"""Working the callbacks: what staff record after calling a customer whose card was closed, and
what Managers do with the team's follow-ups.

    record_outcome(followup, *, by, outcome, note="", reason=None, other_reason="", csat=None,
                   nps=None, come_back="", contact_again=None, retry_at=None, request=None) -> Followup
    confirm_reinstatement(followup, *, by, note="", request=None) -> Followup
    reassign(followup_ids, *, to, by, request=None) -> int
    retry(followup, *, by, request=None) -> Followup

Each is atomic, locks the follow-up (and, through the operations it calls, the card), checks its
rules against the locked row and raises a ValidationError a user can read; each writes one audit
entry on the card, so the card's timeline tells the story.

The outcomes of a callback (only its assignee or a Manager records one, only while it is pending):

- **reached**: the customer's own reason and satisfaction become an Answer (followups.answers.
  record_answer, source "callback": the same fields as the exit survey); the callback is done.
- **not reached**: one more attempt; the callback stays pending, due again at ``retry_at`` or the
  next working day, with the caller's note.
- **wants to come back**: the card is reinstated by the one reinstate operation
  (closures.operations.reinstate) in the same transaction, attributed in its audit entry as won
  back by this follow-up ("Won back by a callback" on the card's timeline), and the callback is
  done with ``won_back``. Staff may not reinstate cards: their callback is then done with the
  outcome recorded and waits "to reinstate" in the Managers' view and inbox, where a Manager
  confirms it (``confirm_reinstatement``) — the same ``_win_back`` step, so both paths end in the
  same operation and the same attribution.
- **do not contact**: "do not contact" on every channel (customers.consent.change, audited) and
  the customer's other pending follow-ups cancelled.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closures import operations
from crm import audit, inbox, scopes
from customers import consent
from customers.gate import Source

from . import summary
from .answers import record_answer
from .models import Followup, Kind
from .planner import add_working_days

Outcome = Followup.Outcome
State = Followup.State
MANAGE = "followups.manage_followups"
REINSTATE = "closures.reinstate_closure"
DUE = "followups.callbacks_due"
TO_REINSTATE = "followups.to_reinstate"
CANCELLED_BECAUSE_DO_NOT_CONTACT = gettext_lazy("The customer asked not to be contacted.")
CALLBACK_SOURCE = Source("callback")


# --- Who may do what, and the lists the queue and the inbox read ----------------------------------


def may_work(user, followup: Followup) -> bool:
    """The assignee works their own follow-ups; a Manager works everyone's."""
    return user.has_perm("followups.change_followup") and (followup.assigned_to_id == user.pk or user.has_perm(MANAGE))


def due_now(user):
    """``user``'s callbacks due now or overdue, on the cards in their data scope (the inbox counts
    these; index followup_assignee_state_due)."""
    due = Followup.objects.filter(
        assigned_to_id=user.pk, state=State.PENDING, kind=Kind.CALLBACK, due_at__lte=timezone.now()
    )
    return scopes.visible(due, user)


def to_reinstate():
    """Callbacks where the customer wants to come back and a Manager has still to reinstate the card."""
    return Followup.objects.filter(
        outcome=Outcome.COMES_BACK, won_back=False, closure__reverted_at__isnull=True
    ).exclude(customer__status="erased")


# --- The operations -----------------------------------------------------------------------------------


def record_outcome(
    followup,
    *,
    by,
    outcome: str,
    note: str = "",
    reason=None,
    other_reason: str = "",
    csat: int | None = None,
    nps: int | None = None,
    come_back: str = "",
    contact_again: bool | None = None,
    retry_at: datetime | None = None,
    request=None,
) -> Followup:
    """Record what came of a callback (see the module docstring for each outcome)."""
    note = (note or "").strip()
    with transaction.atomic():
        locked = _locked(followup)
        _check_workable(locked, by)
        if outcome == Outcome.REACHED:
            _check_scores(csat, nps)
            record_answer(
                locked,
                source="callback",
                reason=reason,
                other_reason=other_reason,
                csat=csat,
                nps=nps,
                come_back=come_back,
                contact_again=contact_again,
                by=by,
                request=request,
            )
            locked.refresh_from_db()
            _finish(locked, by, Outcome.REACHED, note)
        elif outcome == Outcome.NOT_REACHED:
            _not_reached(locked, note, retry_at)
        elif outcome == Outcome.COMES_BACK:
            if not note:
                raise ValidationError({"note": _("Write what the customer said: it is the reinstatement's note.")})
            _finish(locked, by, Outcome.COMES_BACK, note)
            if by.has_perm(REINSTATE):
                _win_back(locked, by=by, note=note, request=request)
            else:
                inbox.changed(TO_REINSTATE)
        elif outcome == Outcome.DO_NOT_CONTACT:
            _do_not_contact(locked, by, request)
            _finish(locked, by, Outcome.DO_NOT_CONTACT, note)
        else:
            raise ValidationError(_("Choose what came of the call."), code="outcome")
        _audit("followup.outcome", locked, by, request, notes=note, data=_outcome_data(locked))
        inbox.changed(DUE, users=[locked.assigned_to_id])
        if outcome == Outcome.DO_NOT_CONTACT:  # the card's other pending follow-ups were cancelled
            summary.refresh_customers([locked.customer_id])
        else:
            summary.refresh([locked.closure_id])
        return locked


def confirm_reinstatement(followup, *, by, note: str = "", request=None) -> Followup:
    """A Manager reinstates the card of a callback whose customer wants to come back (recorded by
    Staff, who may not reinstate): the same reinstate operation and attribution as when the caller may."""
    with transaction.atomic():
        locked = _locked(followup)
        if locked.outcome != Outcome.COMES_BACK or locked.won_back:
            raise ValidationError(_("This follow-up is not waiting for a reinstatement."), code="state")
        if not by.has_perm(REINSTATE):
            raise ValidationError(_("You are not allowed to reinstate cards."), code="permission")
        _win_back(locked, by=by, note=(note or "").strip() or locked.note, request=request)
        summary.refresh([locked.closure_id])
        return locked


def decline_reinstatement(followup, *, by, note: str, request=None) -> Followup:
    """A Manager decides not to reinstate the card of a customer who wanted to come back (the customer
    still owes money, the request was withdrawn...): the note says why, the item leaves the
    "to reinstate" list and the inbox, and the follow-up keeps the outcome "wanted to come back, not
    reinstated"."""
    note = (note or "").strip()
    if not by.has_perm(MANAGE):
        raise ValidationError(_("Only Managers decide on a reinstatement."), code="permission")
    if not note:
        raise ValidationError({"note": _("Write why the card stays closed.")})
    with transaction.atomic():
        locked = _locked(followup)
        if locked.outcome != Outcome.COMES_BACK or locked.won_back:
            raise ValidationError(_("This follow-up is not waiting for a reinstatement."), code="state")
        locked.outcome = Outcome.STAYS_CLOSED
        locked.note = note
        locked.save(update_fields=["outcome", "note"])
        _audit(
            "followup.decline",
            locked,
            by,
            request,
            changes={"outcome": [Outcome.COMES_BACK.value, Outcome.STAYS_CLOSED.value]},
            notes=note,
        )
        inbox.changed(TO_REINSTATE)
        summary.refresh([locked.closure_id])
        return locked


def reassign(followup_ids, *, to, by, request=None) -> int:
    """Give pending callbacks to ``to`` (None: the team's unassigned queue); returns how many moved.
    Managers only; callbacks already worked (done, cancelled) keep their caller."""
    if not by.has_perm(MANAGE):
        raise ValidationError(_("Only Managers reassign follow-ups."), code="permission")
    if to is not None and not (to.is_active and to.has_perm("followups.change_followup")):
        raise ValidationError({"to": _("%(name)s cannot work follow-ups.") % {"name": to.get_username()}})
    ids = sorted({int(pk) for pk in followup_ids})
    if not ids:
        raise ValidationError({"ids": _("Tick at least one follow-up.")})
    with transaction.atomic():
        rows = list(
            scopes.visible(Followup.objects.select_for_update(of=("self",)), by)
            .filter(pk__in=ids, kind=Kind.CALLBACK, state=State.PENDING)
            .exclude(assigned_to_id=getattr(to, "pk", None))
            .order_by("pk")
        )
        before = [row.assigned_to_id for row in rows]
        for row in rows:
            _audit(
                "followup.reassign",
                row,
                by,
                request,
                changes={"assigned_to": [_username(row.assigned_to_id), to.get_username() if to else None]},
            )
        Followup.objects.filter(pk__in=[row.pk for row in rows]).update(assigned_to=to)
        inbox.changed(DUE, users=[*before, getattr(to, "pk", None)])
        return len(rows)


def retry(followup, *, by, request=None) -> Followup:
    """A failed message goes back to pending, due now, with a fresh count of attempts (the sender's
    retries start over); its last error stays on the row until the next attempt. Managers only."""
    if not by.has_perm(MANAGE):
        raise ValidationError(_("Only Managers retry failed messages."), code="permission")
    with transaction.atomic():
        locked = _locked(followup)
        if locked.state != State.FAILED:
            raise ValidationError(_("Only a failed message can be sent again."), code="state")
        if locked.customer.is_erased:
            raise ValidationError(_("This card's personal data was deleted."), code="erased")
        locked.state, locked.due_at, locked.attempts = State.PENDING, timezone.now(), 0
        locked.save(update_fields=["state", "due_at", "attempts"])
        _audit("followup.retry", locked, by, request, data={"kind": locked.kind, "error": locked.last_error})
        summary.refresh([locked.closure_id])
        return locked


# --- Steps --------------------------------------------------------------------------------------------


def _locked(followup) -> Followup:
    return (
        Followup.objects.select_for_update(of=("self",))
        .select_related("customer", "closure")
        .get(pk=getattr(followup, "pk", followup))
    )


def _check_workable(locked: Followup, by) -> None:
    if not may_work(by, locked):
        raise ValidationError(_("This callback is assigned to someone else."), code="permission")
    if locked.kind != Kind.CALLBACK:
        raise ValidationError(_("Only a callback has an outcome to record."), code="kind")
    if locked.state != State.PENDING:
        raise ValidationError(
            _("This callback is %(state)s: nothing more to record.") % {"state": locked.get_state_display().lower()},
            code="state",
        )
    if locked.customer.is_erased:
        raise ValidationError(_("This card's personal data was deleted."), code="erased")
    if locked.closure.reverted_at is not None:
        raise ValidationError(
            _("The card was reinstated meanwhile: this callback is no longer needed."), code="reverted"
        )


def _check_scores(csat, nps) -> None:
    errors = {}
    if csat is not None and not 1 <= csat <= 5:
        errors["csat"] = _("Satisfaction is a score from 1 to 5.")
    if nps is not None and not 0 <= nps <= 10:
        errors["nps"] = _("Would recommend is a score from 0 to 10.")
    if errors:
        raise ValidationError(errors)


def _finish(locked: Followup, by, outcome: str, note: str) -> None:
    locked.outcome, locked.state = outcome, State.DONE
    locked.done_at, locked.done_by = locked.done_at or timezone.now(), by
    locked.note = note or locked.note
    locked.save(update_fields=["outcome", "state", "done_at", "done_by", "note"])


def _not_reached(locked: Followup, note: str, retry_at: datetime | None) -> None:
    now = timezone.now()
    if retry_at is not None and retry_at <= now:
        raise ValidationError({"retry_at": _("Choose a time in the future for the next call.")})
    locked.attempts += 1
    locked.outcome = Outcome.NOT_REACHED
    locked.due_at = retry_at or add_working_days(now, 1)
    locked.note = note or locked.note
    locked.save(update_fields=["attempts", "outcome", "due_at", "note"])


def _win_back(locked: Followup, *, by, note: str, request) -> None:
    """The one way a follow-up wins a card back: the reinstate operation, attributed to it."""
    operations.reinstate(
        locked.customer_id, by=by, note=note, request=request, data={"won_back": locked.kind, "followup": locked.pk}
    )
    locked.won_back = True
    locked.save(update_fields=["won_back"])
    inbox.changed(TO_REINSTATE)


def _do_not_contact(locked: Followup, by, request) -> None:
    for channel in consent.Channel.values:
        consent.change(locked.customer, channel, by=by, source=CALLBACK_SOURCE, request=request, do_not_contact=True)
    others = Followup.objects.filter(customer_id=locked.customer_id, state=State.PENDING).exclude(pk=locked.pk)
    assignees = list(others.filter(~Q(assigned_to=None)).values_list("assigned_to_id", flat=True))
    others.update(state=State.CANCELLED, last_error=str(CANCELLED_BECAUSE_DO_NOT_CONTACT), done_at=timezone.now())
    inbox.changed(DUE, users=assignees)


def _outcome_data(locked: Followup) -> dict:
    data = {"callback_outcome": locked.outcome, "followup": locked.pk}
    if locked.outcome == Outcome.NOT_REACHED:
        data["retry_at"] = locked.due_at.isoformat()
    return data


def _audit(action: str, followup: Followup, by, request, **kwargs) -> None:
    audit.record(action, actor=by, request=request, obj=followup, customer_id=followup.customer_id, **kwargs)


def _username(user_id) -> str | None:
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id).values_list("username", flat=True).first()
