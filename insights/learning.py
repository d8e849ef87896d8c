"""The risk weights, learnt each night from the shop's own recent past.

A full scoring run (insights/runs.py) asks ``learn(today)`` which signals foretold a customer's
leaving here: it scores the cards as they stood ``risk.PERIOD_DAYS`` ago (a sample of at most
``SAMPLE`` cards, with purchase models fitted on that day's data only), reads what happened since
(no purchase, or the card closed: the backtest's "either"), and fits a logistic regression of that
outcome on the signals' strengths, each weight kept at zero or more so a signal can only raise the
risk and its reason still reads as a reason. Those weights, scaled to the defaults' total, are the
run's weights (kept on its ScoringRun with the models; the incremental runs reuse them); the score
stays the weighted mean of the strengths, times 100.

Why: the default weights are a retail shop's guess. On the CDNOW purchase history (a CD shop where
most customers buy once) they ranked the customers who would not come back worse than chance, and
plain recency far better; with weights learnt like this, before each cut-off from data before it,
the score beats recency there (docs/churn-warning.md). Nothing is learnt, and the defaults stand,
when INSIGHTS_RISK_WEIGHTS sets weights (an Admin's explicit choice wins), with fewer than
``MIN_CARDS`` buyers to learn from, or when everyone (or no one) left.
"""

from __future__ import annotations

from datetime import date, timedelta
from math import ceil

import numpy as np
from django.db.models.functions import Mod
from scipy import optimize

from . import risk

SAMPLE = 200_000
MIN_CARDS = 200
PENALTY = 0.01  # a little L2 on the weights: keeps a signal that never fires from wandering


def fit_logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative weights and a free intercept (last) maximising the penalised log-likelihood."""
    xb = np.hstack([x, np.ones((len(x), 1))])

    def loss(w):
        z = xb @ w
        return np.sum(np.logaddexp(0, z) - y * z) + PENALTY * np.sum(w[:-1] ** 2)

    def gradient(w):
        p = 1 / (1 + np.exp(-(xb @ w)))
        g = xb.T @ (p - y)
        g[:-1] += 2 * PENALTY * w[:-1]
        return g

    bounds = [(0, None)] * x.shape[1] + [(None, None)]
    return optimize.minimize(loss, np.zeros(xb.shape[1]), jac=gradient, method="L-BFGS-B", bounds=bounds).x


def strengths(run, rows: np.ndarray) -> np.ndarray:
    """Each signal's strength (columns in risk.WEIGHTS' order) for the run's cards at ``rows``."""
    codes = list(risk.WEIGHTS)
    out = np.zeros((len(rows), len(codes)))
    for j, i in enumerate(rows):
        for code, strength, _details in risk.signals(run.history(int(i))):
            out[j, codes.index(code)] = strength
    return out


def learn(today: date, *, using: str) -> dict[str, float] | None:
    """The weights the last ``risk.PERIOD_DAYS`` teach, or None (keep the defaults)."""
    from .backtest import active_on, outcomes
    from .scoring import assess

    if risk.overridden():
        return None
    start = today - timedelta(days=risk.PERIOD_DAYS)
    cards = active_on(start, using=using)
    total = cards.count()
    if total > SAMPLE:  # every k-th card by key: a fixed, even sample
        cards = cards.alias(bucket=Mod("pk", ceil(total / SAMPLE))).filter(bucket=0)
    run, _fitted = assess(start, using=using, cards=cards, learn=False)
    rows = np.flatnonzero(run.c.n > 0)
    if len(rows) < MIN_CARDS:
        return None
    left = outcomes(run.c.ids[rows], start, risk.PERIOD_DAYS, "either", using=using).astype(float)
    if left.all() or not left.any():
        return None
    weights = fit_logistic(strengths(run, rows), left)[:-1]
    if weights.sum() <= 0:
        return None
    scale = sum(risk.WEIGHTS.values()) / weights.sum()
    return {code: round(float(w * scale), 4) for code, w in zip(risk.WEIGHTS, weights, strict=True)}
