"""The backtest: score everyone as of a past day, then see who actually left, and measure how well
each score ranked them — the risk score against the plain recency baseline, so it is clear what the
model adds (and against BG/NBD's 1 − P(alive) alone, the statistical model without the rest).

    result = backtest(cutoff, window=180, churn="either", using="default")
    format_table(result)   # the readable report;  result is a plain dict, ready for JSON

1. The cards scored are those active on the cut-off day: not erased, and without a closure performed
   by the end of that day that was still in force then (not reverted before it). Of these, only the
   customers who bought at least once by the cut-off are measured: every score needs a purchase to
   say anything, and a card with none is "no purchase yet", not a churn risk.
2. Each is scored from its history up to the cut-off (insights.scoring.assess, the nightly run's own
   code; nothing is written), the models fitted on those cards alone.
3. What happened in the ``window`` days after the cut-off decides who churned: ``closed`` — a closure
   (close or archive; a voided record is a mistake, not a customer leaving) performed in the window
   and not reverted; ``quiet`` — no purchase in the window; ``either`` — one or the other.
4. For each score: AUC (the probability that a churned customer scores above one who stayed, ties
   counting half: the Mann–Whitney U statistic over the two groups' sizes); the precision and recall
   of the top 10 % (customers tied at the boundary share the remaining places pro rata, so a score
   with many ties is neither helped nor hurt by an arbitrary order) and the lift (precision over the
   base rate); and the calibration by decile: the mean score and the churn rate of each tenth.

A caveat the figures carry: open and late service tickets are read as they are now, not as they were
on the cut-off (tickets keep no history of their status); a backtest on a live database with
tickets is a little optimistic there. The CDNOW history has none.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
from django.db.models import Q
from django.utils import timezone
from scipy import stats

from closures.models import Action, Closure
from customers.models import Customer, Purchase

from .scoring import assess

CHURN_KINDS = ("closed", "quiet", "either")
CHURN_ACTIONS = (Action.CLOSE, Action.ARCHIVE)
TOP_SHARE = 0.10
SCORERS = {
    "risk": "Risk score (the model)",
    "recency": "Recency baseline (days since the last purchase)",
    "bgnbd": "BG/NBD alone (1 - probability alive)",
}


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time()))


def active_on(day: date, *, using: str):
    """The cards that were active at the end of ``day``: not erased, no closure in force then."""
    end = _end_of(day)
    in_force = (
        Closure.objects.using(using)
        .filter(performed_at__lt=end)
        .filter(Q(reverted_at__isnull=True) | Q(reverted_at__gte=end))
    )
    cards = Customer.objects.using(using).exclude(status=Customer.Status.ERASED)
    return cards.exclude(pk__in=in_force.values("customer_id"))


def outcomes(ids: np.ndarray, cutoff: date, window: int, churn: str, *, using: str) -> np.ndarray:
    """True for each card (of ``ids``, sorted) that churned in the ``window`` days after ``cutoff``."""
    start, end = _end_of(cutoff), _end_of(cutoff + timedelta(days=window))
    churned = np.zeros(len(ids), dtype=bool)
    if churn in ("closed", "either"):
        closed = Closure.objects.using(using).filter(
            performed_at__gte=start, performed_at__lt=end, reverted_at__isnull=True, action__in=CHURN_ACTIONS
        )
        churned |= np.isin(ids, np.fromiter(closed.values_list("customer_id", flat=True), np.int64))
    if churn in ("quiet", "either"):
        bought = Purchase.objects.using(using).filter(
            purchased_on__gt=cutoff, purchased_on__lte=cutoff + timedelta(days=window)
        )
        buyers = np.fromiter(bought.values_list("customer_id", flat=True).distinct(), np.int64)
        churned |= ~np.isin(ids, buyers)
    return churned


def auc(scores: np.ndarray, churned: np.ndarray) -> float | None:
    """The rank-based AUC (Mann–Whitney U / (n₁·n₀)), ties counting half; None without both groups."""
    n1, n0 = int(churned.sum()), int((~churned).sum())
    if not n1 or not n0:
        return None
    ranks = stats.rankdata(scores)
    return float((ranks[churned].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def top_share(scores: np.ndarray, churned: np.ndarray, share: float = TOP_SHARE) -> dict:
    """Precision, recall and lift of the ``share`` highest scores (ties at the boundary pro rata)."""
    n = len(scores)
    k = max(1, int(np.ceil(share * n)))
    threshold = np.sort(scores)[::-1][k - 1]
    above, tied = scores > threshold, scores == threshold
    places = k - int(above.sum())
    hits = churned[above].sum() + places * churned[tied].mean()
    positives = int(churned.sum())
    base = positives / n
    precision = float(hits / k)
    return {
        "k": k,
        "precision": precision,
        "recall": float(hits / positives) if positives else None,
        "lift": precision / base if base else None,
    }


def deciles(scores: np.ndarray, churned: np.ndarray) -> list[dict]:
    """Mean score and churn rate of each tenth, lowest scores first (ties share a tenth)."""
    ranks = stats.rankdata(scores)
    tenth = np.minimum(9, ((ranks - 1) * 10 // len(scores)).astype(int))
    rows = []
    for d in range(10):
        inside = tenth == d
        if inside.any():
            rows.append(
                {
                    "decile": d + 1,
                    "n": int(inside.sum()),
                    "mean_score": float(scores[inside].mean()),
                    "churn_rate": float(churned[inside].mean()),
                }
            )
    return rows


def measure(scores: np.ndarray, churned: np.ndarray) -> dict:
    return {"auc": auc(scores, churned), "top10": top_share(scores, churned), "deciles": deciles(scores, churned)}


def backtest(cutoff: date, *, window: int = 180, churn: str = "either", using: str = "default", within=None) -> dict:
    """Score the cards active on ``cutoff`` as of then, and measure each score against what happened.

    ``within`` (a Customer queryset) narrows the population: a data set loaded beside other cards."""
    if churn not in CHURN_KINDS:
        raise ValueError(f"churn must be one of {CHURN_KINDS}")
    population = active_on(cutoff, using=using)
    if within is not None:
        population = population.filter(pk__in=within.using(using).values("pk"))
    run, fitted = assess(cutoff, using=using, cards=population)
    bought = run.c.n > 0
    index = np.flatnonzero(bought)
    risk = np.array([run.score(int(i)).risk for i in index], dtype=float)
    columns = {"risk": risk, "recency": run.recency[index].astype(float)}
    if fitted.bgnbd is not None:
        columns["bgnbd"] = 1.0 - run.alive[index]
    ids = run.c.ids[index]
    churned = outcomes(ids, cutoff, window, churn, using=using)
    last_day = Purchase.objects.using(using).order_by("-purchased_on").values_list("purchased_on", flat=True).first()
    return {
        "cutoff": cutoff.isoformat(),
        "window_days": window,
        "window_end": (cutoff + timedelta(days=window)).isoformat(),
        "churn": churn,
        "last_purchase_in_data": last_day.isoformat() if last_day else None,
        "active_cards": len(run),
        "scored": len(ids),
        "without_purchase": int(len(run) - len(ids)),
        "churned": int(churned.sum()),
        "base_rate": float(churned.mean()) if len(ids) else None,
        "bgnbd": None if fitted.bgnbd is None else vars(fitted.bgnbd),
        "scorers": {name: {"label": SCORERS[name], **measure(values, churned)} for name, values in columns.items()}
        if len(ids)
        else {},
    }


def _num(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_table(result: dict) -> str:
    """The backtest as a readable report (the management command prints it)."""
    lines = [
        f"Backtest at {result['cutoff']}: churn = {result['churn']} within {result['window_days']} days "
        f"(to {result['window_end']}).",
        f"Cards active on the cut-off: {result['active_cards']:,}; scored: {result['scored']:,} "
        f"(only customers with at least one purchase by the cut-off; {result['without_purchase']:,} without).",
    ]
    if result["scored"]:
        lines.append(f"Churned: {result['churned']:,} ({result['base_rate']:.1%} base rate).")
    if result["last_purchase_in_data"] and result["last_purchase_in_data"] < result["window_end"]:
        lines.append(
            f"Note: the last purchase in the data is on {result['last_purchase_in_data']}, before the window ends: "
            "customers may be counted as quiet only because the data stops."
        )
    if not result["scorers"]:
        return "\n".join(lines)
    lines += ["", f"{'score':<52} {'AUC':>6} {'prec@10%':>9} {'recall@10%':>11} {'lift@10%':>9}"]
    for values in result["scorers"].values():
        top = values["top10"]
        lines.append(
            f"{values['label']:<52} {_num(values['auc'], '.3f'):>6} {_num(top['precision'], '.1%'):>9} "
            f"{_num(top['recall'], '.1%'):>11} {_num(top['lift'], '.2f'):>9}"
        )
    for values in result["scorers"].values():
        lines += ["", f"Calibration by decile: {values['label']}"]
        lines.append(f"{'decile':>6} {'n':>7} {'mean score':>11} {'churn':>7}")
        for row in values["deciles"]:
            lines.append(f"{row['decile']:>6} {row['n']:>7,} {row['mean_score']:>11.3f} {row['churn_rate']:>7.1%}")
    return "\n".join(lines)
