"""The card's "Churn warning and value" panel (customers.panels), registered in InsightsConfig.ready:
the card's risk with its reasons in words, its RFM segment and its value, as the last scoring run
left them (one query: the score by the card's key), and its last retention actions (one more)."""

from __future__ import annotations

from . import risk
from .models import RetentionAction, Score


def retention(request, customer) -> dict:
    """The card's last retention actions with their outcomes (one query; none without the permission)."""
    if not request.user.has_perm("insights.view_retentionaction"):
        return {"actions": []}
    rows = RetentionAction.objects.filter(customer_id=customer.pk).select_related("assigned_to", "closure__reason")
    return {"actions": list(rows.order_by("-created_at", "-pk")[:3])}


def context(request, customer) -> dict:
    score = Score.objects.filter(customer_id=customer.pk).first()
    if score is None:
        return {"score": None, **retention(request, customer)}
    return {
        **retention(request, customer),
        "score": score,
        "band": risk.band(score.risk),
        "reasons": [risk.describe(reason) for reason in score.reasons],
        "alive_percent": None if score.probability_alive is None else round(100 * score.probability_alive),
    }
