"""The card's follow-ups panel (customers.panels), registered in FollowupsConfig.ready: the card's
follow-ups (kind, channel, state, due or sent, outcome, the error of a failed one) and what the
customer answered, in two queries whatever the card's history (the latest ones; the rest on the
follow-up pages)."""

from __future__ import annotations

from .models import Answer, Followup

LATEST = 20


def context(request, customer) -> dict:
    followups = list(
        Followup.objects.filter(customer_id=customer.pk)
        .select_related("assigned_to")
        .order_by("-due_at", "-pk")[: LATEST + 1]
    )
    answers = list(
        Answer.objects.filter(customer_id=customer.pk).select_related("reason").order_by("-answered_at", "-pk")[:LATEST]
    )
    return {"followups": followups[:LATEST], "more": len(followups) > LATEST, "answers": answers}
