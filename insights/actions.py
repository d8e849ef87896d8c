"""Retention actions: what staff do about a warning, and what came of it.

    plan_callback(customer, *, by, assigned_to, due_on, note="", request=None) -> RetentionAction
    log_attempt(customer, *, by, channel, note="", request=None) -> RetentionAction
    record_result(action, *, by, result, request=None) -> RetentionAction   # a callback was made
    settle(today, using=None) -> int   # the scoring runs settle the outcomes they can

Each is atomic and audited on the card ("insights.callback", "insights.attempt",
"insights.callback_done"), and refuses with a message a user can read: only active cards, only
staff who may see the card's scores; a callback's result only by its assignee or a Manager.

**Outcomes.** An action's window runs from the day it was taken (a callback: from the day it was
made, or planned while it is waiting) for ``RETENTION_WINDOW_DAYS``. Whatever comes first decides:
a purchase in the window is **retained**; a closure in the window (the card closed, voided or
archived, and not reinstated) is **closed**, with the closure and so its reason; the window
passing without either is **no purchase in time**. ``settle`` runs at the end of every scoring run.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closures.models import Closure
from crm import audit, inbox
from customers.gate import lock_for_change
from customers.models import Purchase, local_today

from .models import RetentionAction, RiskWarning, Score

Kind, Outcome = RetentionAction.Kind, RetentionAction.Outcome
MANAGE = "insights.change_retentionaction"  # a Manager: any callback's result
CALLBACKS_DUE = "insights.callbacks_due"  # the assignee's to-do inbox source (insights/inbox.py)
LABELS = {
    "insights.callback": gettext_lazy("Retention callback planned"),
    "insights.attempt": gettext_lazy("Retention attempt logged"),
    "insights.callback_done": gettext_lazy("Retention callback made"),
}
audit.ACTION_LABELS.update(LABELS)


def window_days() -> int:
    return settings.RETENTION_WINDOW_DAYS


def _check(by, permission: str = "insights.add_retentionaction") -> None:
    if not by.has_perm(permission):
        raise ValidationError(_("You are not allowed to act on customers at risk."))


def _start(customer, by, kind: str, **fields) -> RetentionAction:
    """Lock the card, check it is active, and write the action with the card's current score."""
    _check(by)
    locked = lock_for_change(customer)  # refuses closed, void, archived and erased cards in words
    score = Score.objects.filter(customer_id=locked.pk).first()
    warning = RiskWarning.objects.filter(customer_id=locked.pk, cleared_on=None).first()
    return RetentionAction.objects.create(
        customer=locked,
        warning=warning,
        kind=kind,
        risk=score.risk if score else 0,
        value_at_risk=score.value_at_risk if score else 0,
        created_by=by,
        **fields,
    )


def plan_callback(customer, *, by, assigned_to, due_on: date, note: str = "", request=None) -> RetentionAction:
    """A callback for ``assigned_to`` by ``due_on``; it shows in their to-do inbox until made."""
    if due_on < local_today():
        raise ValidationError({"due_on": _("The callback cannot be due in the past.")})
    with transaction.atomic():
        action = _start(customer, by, Kind.CALLBACK, assigned_to=assigned_to, due_on=due_on, note=note.strip())
        audit.record(
            "insights.callback",
            actor=by,
            request=request,
            obj=action,
            customer_id=action.customer_id,
            notes=action.note,
            changes=audit.diff({}, {"assigned_to": assigned_to.get_username(), "due_on": due_on}),
        )
        inbox.changed(CALLBACKS_DUE, users=[action.assigned_to_id])
    return action


def log_attempt(customer, *, by, channel: str, note: str = "", request=None) -> RetentionAction:
    """Something done today to keep the customer (a call, a visit, a message, an offer)."""
    if channel not in RetentionAction.Channel.values:
        raise ValidationError({"channel": _("Choose how the customer was contacted.")})
    with transaction.atomic():
        now = timezone.now()
        action = _start(customer, by, Kind.ATTEMPT, channel=channel, note=note.strip(), done_at=now)
        audit.record(
            "insights.attempt",
            actor=by,
            request=request,
            obj=action,
            customer_id=action.customer_id,
            notes=action.note,
            changes=audit.diff({}, {"channel": action.get_channel_display()}),
        )
    return action


def record_result(action: RetentionAction, *, by, result: str, request=None) -> RetentionAction:
    """The callback was made: what came of the call (its outcome window starts today)."""
    if not result.strip():
        raise ValidationError({"result": _("Say what came of the call.")})
    with transaction.atomic():
        locked = RetentionAction.objects.select_for_update().get(pk=action.pk)
        if locked.kind != Kind.CALLBACK or locked.done_at is not None:
            raise ValidationError(_("This callback was already made."))
        if locked.assigned_to_id != by.pk and not by.has_perm(MANAGE):
            raise ValidationError(_("Only the person it is assigned to, or a Manager, can record this callback."))
        locked.done_at, locked.result = timezone.now(), result.strip()
        locked.save(update_fields=["done_at", "result"])
        audit.record(
            "insights.callback_done", actor=by, request=request, obj=locked, customer_id=locked.customer_id,
            notes=locked.result,
        )  # fmt: skip
        inbox.changed(CALLBACKS_DUE, users=[locked.assigned_to_id])
    return locked


def callbacks_due(user):
    """The retention callbacks ``user`` still has to make, soonest first."""
    return RetentionAction.objects.filter(assigned_to=user, kind=Kind.CALLBACK, done_at=None).order_by("due_on", "pk")


def _window_start(action: RetentionAction) -> date:
    return timezone.localdate(action.done_at or action.created_at)


def settle(today: date | None = None, *, using: str | None = None) -> int:
    """Settle the outcome of every open action whose outcome is known by ``today``; returns how many."""
    using = using or router.db_for_write(RetentionAction)
    today = today or local_today()
    window = timedelta(days=window_days())
    waiting = list(RetentionAction.objects.using(using).filter(outcome=Outcome.OPEN))
    if not waiting:
        return 0
    cards = {a.customer_id for a in waiting}
    earliest = min(_window_start(a) for a in waiting)
    bought: dict[int, list[date]] = {}
    purchases = Purchase.objects.using(using).filter(customer_id__in=cards, purchased_on__gte=earliest)
    for card, day in purchases.order_by("purchased_on").values_list("customer_id", "purchased_on"):
        bought.setdefault(card, []).append(day)
    closed: dict[int, list[Closure]] = {}
    closures = Closure.objects.using(using).filter(customer_id__in=cards, reverted_at=None).exclude(action="erase")
    for closure in closures.order_by("performed_at"):
        closed.setdefault(closure.customer_id, []).append(closure)
    settled = []
    for action in waiting:
        begin = _window_start(action)
        end = begin + window
        purchase = next((d for d in bought.get(action.customer_id, []) if begin <= d <= end), None)
        closure = next(
            (c for c in closed.get(action.customer_id, []) if begin <= timezone.localdate(c.performed_at) <= end), None
        )
        closed_on = timezone.localdate(closure.performed_at) if closure else None
        if purchase and (closed_on is None or purchase <= closed_on):
            action.outcome, action.outcome_on = Outcome.RETAINED, purchase
        elif closure:
            action.outcome, action.outcome_on, action.closure = Outcome.CLOSED, closed_on, closure
        elif today > end:
            action.outcome, action.outcome_on = Outcome.LAPSED, end
        else:
            continue
        settled.append(action)
    RetentionAction.objects.using(using).bulk_update(settled, ["outcome", "outcome_on", "closure"])
    return len(settled)
