"""RFM: recency, frequency and monetary quintiles, and the named segments read from them.

Quintiles are taken among the customers who bought at least once (the others are "no purchase
yet", scores 0): 5 is the best fifth (the most recent, the most purchases, the most spent). Ties
share a quintile: each customer's quintile is the share of customers strictly worse than them,
times five, plus one, so equal values never straddle two quintiles.

The segments follow the usual grid on recency (R) and frequency (F), checked top to bottom:

    champions     R 5,    F 4–5     bought lately and often
    loyal         R 3–4,  F 4–5     buy often, not the very latest
    new           R 5,    F 1       first purchase lately
    potential     R 4–5,  F 1–3     lately, a few times
    at risk       R 1–2,  F 3–5     used to buy often, not lately
    lost          R 1,    F 1–2     long ago, seldom
    hibernating   R 2,    F 1–2     a while ago, seldom
    attention     the rest (R 3, F 1–3)
"""

from __future__ import annotations

import numpy as np

from .models import Segment

GRID = (
    (Segment.CHAMPIONS, (5,), (4, 5)),
    (Segment.LOYAL, (3, 4), (4, 5)),
    (Segment.NEW, (5,), (1,)),
    (Segment.POTENTIAL, (4, 5), (1, 2, 3)),
    (Segment.AT_RISK, (1, 2), (3, 4, 5)),
    (Segment.LOST, (1,), (1, 2)),
    (Segment.HIBERNATING, (2,), (1, 2)),
)


def quintiles(values, *, higher_is_better: bool = True) -> np.ndarray:
    """1–5 for each value: the share of values strictly worse than it, in fifths."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=int)
    keyed = values if higher_is_better else -values
    order = np.sort(keyed)
    worse = np.searchsorted(order, keyed, side="left")
    return (1 + (5 * worse) // values.size).astype(int)


def cuts(values, *, higher_is_better: bool = True) -> list[float]:
    """The four cut points that give ``quintiles``' answer for any value, these values' or a new
    card's (an incremental run rescores a few cards against the last full run's distribution):
    the quintile of v is 1 + the number of cuts strictly below v (keyed: negated when lower is better)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return []
    order = np.sort(values if higher_is_better else -values)
    n = values.size
    return [float(order[-(-k * n // 5) - 1]) for k in range(1, 5)]


def quintiles_by_cuts(values, points: list[float], *, higher_is_better: bool = True) -> np.ndarray:
    """1–5 for each value against cut points from ``cuts``."""
    values = np.asarray(values, dtype=float)
    if not points:
        return np.zeros(values.size, dtype=int)
    keyed = values if higher_is_better else -values
    return (1 + np.searchsorted(np.asarray(points), keyed, side="left")).astype(int)


def segment(r: int, f: int) -> str:
    """The named segment of a recency and frequency quintile (0: no purchase yet)."""
    if not r:
        return Segment.NO_PURCHASE
    for name, rs, fs in GRID:
        if r in rs and f in fs:
            return name
    return Segment.ATTENTION
