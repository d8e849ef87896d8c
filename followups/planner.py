"""The planner: turns the closure events of the outbox (crm/outbox.py) into follow-ups.

Registered as the outbox consumer "followups". For each event it receives:

- ``card.closed`` / ``card.voided`` / ``card.archived``: one Followup per active Rule that matches
  the closure's action, reason category and segment (blank matches any), due ``delay_days`` after
  the closure (working days: Monday to Friday, local time), in the customer's language; a callback
  is assigned to the card's owner at closure (none: the team's queue). Idempotent on the event: a
  unique (event, rule) pair, inserted with ``ignore_conflicts``, so an event handed over twice
  plans once.
- ``card.reinstated``: the closure's pending follow-ups are cancelled.
- ``card.erased``: the card's pending follow-ups are cancelled and every follow-up and answer of
  the card loses its personal data (address, notes, free text); figures (kind, state, dates,
  scores, the customer's reason) are kept for the dashboard.

The senders check again at the moment they send (closure still open, card not erased, consent),
so a follow-up due before its cancellation was planned is never sent either.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import outbox
from customers.models import Customer

from . import summary
from .models import Answer, Followup, Kind, Rule

CLOSING = ("card.closed", "card.voided", "card.archived")
EVENT_TYPES = (*CLOSING, "card.reinstated", "card.erased")
CANCELLED_BECAUSE_REINSTATED = _("The card was reinstated.")
CANCELLED_BECAUSE_ERASED = _("The card was deleted.")


def add_working_days(moment: datetime, days: int) -> datetime:
    """``moment`` plus ``days`` working days (Monday to Friday) in local time; a weekend start moves to Monday."""
    local = timezone.localtime(moment)
    added = 0
    while added < days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local


def due_at(rule: Rule, closed_at: datetime) -> datetime:
    if rule.working_days:
        return add_working_days(closed_at, rule.delay_days)
    return closed_at + timedelta(days=rule.delay_days)


def matches(rule: Rule, payload: dict) -> bool:
    return (
        rule.action == payload.get("action")
        and (not rule.category or rule.category == payload.get("category"))
        and (not rule.segment or rule.segment == payload.get("segment"))
    )


@outbox.consumer("followups", types=EVENT_TYPES)
def plan(events) -> None:
    """Handle one batch of events (crm.outbox.dispatch, inside its transaction)."""
    closing = [e for e in events if e.type in CLOSING]
    if closing:
        plan_closures(closing)
    reinstated = [int(e.payload["closure"]) for e in events if e.type == "card.reinstated"]
    if reinstated:
        cancel(Followup.objects.filter(closure_id__in=reinstated), str(CANCELLED_BECAUSE_REINSTATED))
    erased = [e.customer_id for e in events if e.type == "card.erased"]
    if erased:
        forget(erased)
    # The dashboard's per-closure summary: the closures planned, reinstated (their reverted_at and
    # win-back too) and every closure of the erased cards, in one refresh (see summary._add_to_tally).
    closures = [int(e.payload["closure"]) for e in closing] + reinstated
    summary.refresh(closures + (summary.closures_of(erased) if erased else []))


def plan_closures(events) -> int:
    rules = list(Rule.objects.filter(active=True))
    if not rules:
        return 0
    languages = dict(Customer.objects.filter(pk__in={e.customer_id for e in events}).values_list("pk", "language"))
    planned = []
    for event in events:
        payload = event.payload
        for rule in rules:
            if not matches(rule, payload):
                continue
            planned.append(
                Followup(
                    kind=rule.kind,
                    channel=rule.channel,
                    customer_id=event.customer_id,
                    closure_id=payload["closure"],
                    rule=rule,
                    event_id=event.pk,
                    language=languages.get(event.customer_id, ""),
                    due_at=due_at(rule, event.created_at),
                    assigned_to_id=payload.get("owner") if rule.kind == Kind.CALLBACK else None,
                )
            )
    Followup.objects.bulk_create(planned, batch_size=1000, ignore_conflicts=True)
    return len(planned)


def cancel(followups, why: str) -> int:
    """Cancel the pending ones among ``followups`` (a queryset), saying why."""
    return followups.filter(state=Followup.State.PENDING).update(
        state=Followup.State.CANCELLED, last_error=why[:500], done_at=timezone.now()
    )


def forget(customer_ids: list[int]) -> None:
    """Cancel the cards' pending follow-ups and wipe the personal data of all their follow-ups and answers."""
    mine = Followup.objects.filter(customer_id__in=customer_ids)
    cancel(mine, str(CANCELLED_BECAUSE_ERASED))
    mine.update(address="", note="")
    Answer.objects.filter(customer_id__in=customer_ids).update(other_reason="", come_back="")
