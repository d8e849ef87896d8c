"""What each closure lost, kept as it stood when the closure was made (``ClosureValue``).

The "insights" outbox consumer (registered here, imported by InsightsConfig.ready) reads, for each
card.closed / card.voided / card.archived event, the card's score at that moment (its expected
value over the next 12 months, its historical value, its risk) and its open warning (the early
warning's first day, so the lead time), and clears that warning: the card has left. card.reinstated
marks the row reverted (the dashboards leave it out); card.erased removes the card's score (an
erased customer keeps no score), the closure's row keeps its amounts (no personal data).

    record(closure_ids, using=None) -> int   # the rows of these closures, from the current scores
    rebuild(using=None) -> int               # every closure in force, e.g. after a first install
"""

from __future__ import annotations

from django.db import router, transaction
from django.utils import timezone

from closures.models import Closure
from crm import outbox

from .models import ClosureValue, RiskWarning, Score

CLOSING = ("card.closed", "card.voided", "card.archived")
TYPES = (*CLOSING, "card.reinstated", "card.erased")


@outbox.consumer("insights", types=TYPES)
def on_events(events) -> None:
    """One batch of closure events (crm.outbox.dispatch, inside its transaction); idempotent."""
    made = [int(e.payload["closure"]) for e in events if e.type in CLOSING]
    if made:
        record(made)
    reinstated = [int(e.payload["closure"]) for e in events if e.type == "card.reinstated"]
    if reinstated:
        ClosureValue.objects.filter(closure_id__in=reinstated).update(reverted=True)
    erased = [e.customer_id for e in events if e.type == "card.erased" and e.customer_id]
    if erased:
        Score.objects.filter(customer_id__in=erased).delete()


def record(closure_ids, *, using: str | None = None) -> int:
    """Write (or rewrite) the rows of these closures from the cards' scores and open warnings."""
    using = using or router.db_for_write(ClosureValue)
    closures = list(
        Closure.objects.using(using).filter(pk__in=list(closure_ids)).exclude(action="erase").order_by("pk")
    )
    cards = {c.customer_id for c in closures}
    scores = {s.customer_id: s for s in Score.objects.using(using).filter(customer_id__in=cards)}
    warnings = {
        w.customer_id: w for w in RiskWarning.objects.using(using).filter(customer_id__in=cards, cleared_on=None)
    }
    rows = []
    for closure in closures:
        score, warning = scores.get(closure.customer_id), warnings.get(closure.customer_id)
        day = timezone.localdate(closure.performed_at)
        warned_on = warning.raised_on if warning is not None and warning.raised_on <= day else None
        rows.append(
            ClosureValue(
                closure_id=closure.pk,
                customer_id=closure.customer_id,
                action=closure.action,
                reason_id=closure.reason_id,
                category=closure.category or "",
                day=day,
                reverted=closure.reverted_at is not None,
                scored=score is not None,
                risk=score.risk if score else None,
                expected_value=(score.expected_value or 0) if score else 0,
                historical_value=score.historical_value if score else 0,
                warned_on=warned_on,
                lead_days=(day - warned_on).days if warned_on else None,
            )
        )
    fields = [f.name for f in ClosureValue._meta.concrete_fields if f.name != "closure"]
    with transaction.atomic(using=using):
        ClosureValue.objects.using(using).bulk_create(
            rows, update_conflicts=True, unique_fields=["closure"], update_fields=fields, batch_size=1000
        )
        left: dict = {}  # the day each card left: its warning is cleared that day
        for row in rows:
            if not row.reverted:
                left.setdefault(row.day, []).append(row.customer_id)
        for day, cards_left in left.items():
            RiskWarning.objects.using(using).filter(customer_id__in=cards_left, cleared_on=None).update(cleared_on=day)
    return len(rows)


def rebuild(*, using: str | None = None, batch: int = 5_000) -> int:
    """The rows of every closure not yet recorded (historical closures from an import have no event)."""
    using = using or router.db_for_write(ClosureValue)
    done = ClosureValue.objects.using(using).values("closure_id")
    ids = list(Closure.objects.using(using).exclude(action="erase").exclude(pk__in=done).values_list("pk", flat=True))
    for begin in range(0, len(ids), batch):
        record(ids[begin : begin + batch], using=using)
    return len(ids)
