"""The card's "Churn warning and value" panel (customers.panels), registered in InsightsConfig.ready:
the card's risk with its reasons in words, its RFM segment and its value, as the last scoring run
left them (one query: the score by the card's key)."""

from __future__ import annotations

from . import risk
from .models import Score


def context(request, customer) -> dict:
    score = Score.objects.filter(customer_id=customer.pk).first()
    if score is None:
        return {"score": None}
    return {
        "score": score,
        "band": risk.band(score.risk),
        "reasons": [risk.describe(reason) for reason in score.reasons],
        "alive_percent": None if score.probability_alive is None else round(100 * score.probability_alive),
    }
