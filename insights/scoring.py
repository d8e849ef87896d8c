"""Scoring: every active customer's RFM, risk and value, read from their own history in a few
set-based queries (insights/runs.py writes them to ``insights.Score``).

    run, fitted = assess(today, using=..., ids=None, fitted=None)   # nothing written
    run.score(i)   # the i-th card's Score, unsaved

What it reads, per active card, each in one grouped query:
    purchases   count, days with a purchase, first and last day, total, and the count and amount
                in the last 90 days and in the 90 days before (risk.PERIOD_DAYS)
    interactions in the last 90 days and the 90 days before
    tickets     open ones, and open ones past their targets or marked late

Then, in numpy over all of them at once: the RFM quintiles among the buyers (insights/rfm.py);
the BG/NBD and Gamma-Gamma fits on the buyers' history in weeks (insights/clv.py) for the
probability alive, the expected purchases over the next 52 weeks and their expected value; and the
risk with its reasons (insights/risk.py).

A full run fits the models and the RFM cut points on all active cards (``fit``); an incremental
run scores a few cards with the last full run's (``Fitted``), so their scores compare with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from customers.models import Customer, Interaction, Purchase
from service.models import OPEN_STATUSES, Ticket

from . import clv, learning, rfm, risk
from .models import Score

WEEKS_AHEAD = 52
MIN_BUYERS_TO_FIT = 30  # fewer repeat-buying histories than this: no model, no value figures
CENT = Decimal("0.01")


class Columns:
    """One numpy array per figure, a row per active card in id order (``ids``): a million cards
    take a few dozen MB, where a dict per card took gigabytes."""

    INT = ("n", "days", "first", "last", "recent_n", "earlier_n", "talk_recent", "talk_earlier", "open", "late")
    FLOAT = ("total", "recent_amount", "earlier_amount")

    def __init__(self, ids: np.ndarray):
        self.ids = ids
        for name in self.INT:
            setattr(self, name, np.zeros(len(ids), dtype=np.int64))
        for name in self.FLOAT:
            setattr(self, name, np.zeros(len(ids), dtype=float))

    def fill(self, rows, names: tuple[str, ...]) -> None:
        """Put each (card id, *values) row's values in its card's place."""
        for chunk in _chunks(rows, 50_000):
            data = np.array(chunk, dtype=object)
            at = np.searchsorted(self.ids, data[:, 0].astype(np.int64))
            for k, name in enumerate(names, start=1):
                column = getattr(self, name)
                column[at] = [_number(v) for v in data[:, k]]


def _number(value):
    if value is None:
        return 0
    if isinstance(value, date):
        return value.toordinal()
    return float(value) if isinstance(value, Decimal) else value


def _chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _read(cards, today: date, using: str, ids: np.ndarray) -> Columns:
    """The purchases, interactions and open tickets of the active cards, one grouped query each."""
    c = Columns(ids)
    recent, earlier = today - timedelta(days=risk.PERIOD_DAYS), today - timedelta(days=2 * risk.PERIOD_DAYS)
    in_recent, in_earlier = Q(purchased_on__gt=recent), Q(purchased_on__gt=earlier, purchased_on__lte=recent)
    purchases = (
        Purchase.objects.using(using)
        .order_by()
        .filter(customer__in=cards, purchased_on__lte=today)
        .values("customer_id")
        .annotate(
            n=Count("id"),
            days=Count("purchased_on", distinct=True),
            first=Min("purchased_on"),
            last=Max("purchased_on"),
            total=Sum("amount"),
            recent_n=Count("id", filter=in_recent),
            recent_amount=Sum("amount", filter=in_recent),
            earlier_n=Count("id", filter=in_earlier),
            earlier_amount=Sum("amount", filter=in_earlier),
        )
    )
    names = ("n", "days", "first", "last", "total", "recent_n", "recent_amount", "earlier_n", "earlier_amount")
    c.fill(purchases.values_list("customer_id", *names).iterator(chunk_size=20_000), names)
    end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time()))  # the end of today
    since = end - timedelta(days=risk.PERIOD_DAYS)
    talks = (
        Interaction.objects.using(using)
        .order_by()
        .filter(customer__in=cards, occurred_at__gte=end - timedelta(days=2 * risk.PERIOD_DAYS), occurred_at__lt=end)
        .values("customer_id")
        .annotate(r=Count("id", filter=Q(occurred_at__gte=since)), e=Count("id", filter=Q(occurred_at__lt=since)))
    )
    c.fill(talks.values_list("customer_id", "r", "e").iterator(chunk_size=20_000), ("talk_recent", "talk_earlier"))
    late = Q(first_response_breached=True) | Q(resolution_breached=True) | Q(resolution_due__lt=timezone.now())
    tickets = (
        Ticket.objects.using(using)
        .order_by()
        .filter(customer__in=cards, status__in=[str(s) for s in OPEN_STATUSES])
        .values("customer_id")
        .annotate(o=Count("id"), k=Count("id", filter=late))
    )
    c.fill(tickets.values_list("customer_id", "o", "k").iterator(chunk_size=20_000), ("open", "late"))
    return c


@dataclass(frozen=True)
class Fitted:
    """What a full run learns from all active cards and an incremental run reuses: the purchase and
    spend models (None: too few repeat buyers to fit) and the RFM cut points (insights/rfm.py)."""

    bgnbd: clv.BgNbd | None
    spend: clv.GammaGamma | None
    cuts: dict[str, list[float]]
    first_repeat_days: float | None = None  # the median interval of the repeat buyers (risk: overdue)
    typical_quiet: float | None = None  # the buyers' median chance of no purchase in PERIOD_DAYS (risk: fading)
    weights: dict[str, float] | None = None  # learnt from the last PERIOD_DAYS (insights/learning.py); None: defaults

    def as_json(self) -> dict:
        return {
            "bgnbd": None if self.bgnbd is None else asdict(self.bgnbd),
            "spend": None if self.spend is None else asdict(self.spend),
            "cuts": self.cuts,
            "first_repeat_days": self.first_repeat_days,
            "typical_quiet": self.typical_quiet,
            "weights": self.weights,
        }

    @classmethod
    def from_json(cls, data: dict) -> Fitted:
        bgnbd, spend = data.get("bgnbd"), data.get("spend")
        return cls(
            bgnbd=clv.BgNbd(**bgnbd) if bgnbd else None,
            spend=clv.GammaGamma(**spend) if spend else None,
            cuts={key: list(data.get("cuts", {}).get(key, [])) for key in ("r", "f", "m")},
            first_repeat_days=data.get("first_repeat_days"),
            typical_quiet=data.get("typical_quiet"),
            weights=data.get("weights"),
        )


def _weeks(c: Columns, today: date, buyers: np.ndarray):
    """BG/NBD's (frequency, recency, age) in weeks and the spend per purchase day of the buyers."""
    x = (c.days[buyers] - 1).astype(float)
    recency = (c.last[buyers] - c.first[buyers]) / 7
    age = (today.toordinal() - c.first[buyers]) / 7
    # Spend per purchase day, the first day included (the papers average the repeat purchases only;
    # the totals per day that would need are not worth a second pass over the purchases).
    spend_per_day = c.total[buyers] / np.maximum(c.days[buyers], 1)
    return x, recency, age, spend_per_day


def fit(c: Columns, today: date, recency: np.ndarray) -> Fitted:
    """The models and cut points of all these cards (a full run)."""
    buyers = c.n > 0
    x, weeks, age, spend_per_day = _weeks(c, today, buyers)
    bgnbd = spend = None
    if int((x > 0).sum()) >= MIN_BUYERS_TO_FIT:
        bgnbd = clv.fit_bgnbd(x, weeks, age)
        spend = clv.fit_gamma_gamma(x, spend_per_day)
        spend = spend if spend.q > 1 else None
    cuts = {
        "r": rfm.cuts(recency[buyers].astype(float), higher_is_better=False),
        "f": rfm.cuts(c.n[buyers].astype(float)),
        "m": rfm.cuts(c.total[buyers]),
    }
    repeat = c.days > 1
    intervals = (c.last[repeat] - c.first[repeat]) / (c.days[repeat] - 1)
    first_repeat = float(np.median(intervals)) if intervals.size else None
    return Fitted(bgnbd, spend, cuts, first_repeat)


def _value(c: Columns, today: date, fitted: Fitted) -> tuple[np.ndarray, ...]:
    """P(alive), expected purchases and expected value over the next 52 weeks, and P(no purchase in the
    next risk.PERIOD_DAYS) (NaN: not modelled)."""
    nothing = np.full(len(c.ids), np.nan)
    buyers = c.n > 0
    if fitted.bgnbd is None or not buyers.any():
        return nothing, nothing.copy(), nothing.copy(), nothing.copy()
    x, recency, age, spend_per_day = _weeks(c, today, buyers)
    model = fitted.bgnbd
    alive, expected, value, quiet = nothing.copy(), nothing.copy(), nothing.copy(), nothing.copy()
    alive[buyers] = model.probability_alive(x, recency, age)
    quiet[buyers] = model.probability_no_purchase(risk.PERIOD_DAYS / 7, x, recency, age)
    expected[buyers] = model.expected_purchases(WEEKS_AHEAD, x, recency, age)
    if fitted.spend is not None:
        value[buyers] = clv.clv(model, fitted.spend, x, recency, age, spend_per_day, periods=WEEKS_AHEAD)
    return alive, expected, value, quiet


def _quintiles(values: np.ndarray, buyers: np.ndarray, points: list[float], *, higher_is_better=True) -> np.ndarray:
    out = np.zeros(len(values), dtype=int)
    out[buyers] = rfm.quintiles_by_cuts(values[buyers], points, higher_is_better=higher_is_better)
    return out


def _nan_to_none(value: float):
    return None if np.isnan(value) else float(value)


def assess(
    today: date,
    *,
    using: str,
    ids: Iterable[int] | None = None,
    fitted: Fitted | None = None,
    cards: QuerySet | None = None,
    learn: bool = True,
) -> tuple[Run, Fitted]:
    """Score the active cards (those of ``ids`` only, when given) from their history up to ``today``,
    without writing: the run's columns and the models it used (fitted here when ``fitted`` is None).

    ``cards`` replaces "the active cards" (the backtest, insights/backtest.py: the cards that were
    active on a past day, some closed since)."""
    active = cards if cards is not None else Customer.objects.using(using).filter(status=Customer.Status.ACTIVE)
    if ids is not None:
        active = active.filter(pk__in=list(ids))
    found = np.fromiter(active.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=50_000), np.int64)
    c = _read(active.values("pk"), today, using, found)
    buyers = c.n > 0
    recency = np.where(buyers, today.toordinal() - c.last, 0)
    fitting = fitted is None
    fitted = fitted or fit(c, today, recency)
    alive, expected, value, quiet = _value(c, today, fitted)
    if fitting:
        known = quiet[buyers & ~np.isnan(quiet)]
        fitted = replace(fitted, typical_quiet=float(np.median(known)) if known.size else None)
        if learn:
            fitted = replace(fitted, weights=learning.learn(today, using=using))
    r = _quintiles(recency.astype(float), buyers, fitted.cuts["r"], higher_is_better=False)
    f = _quintiles(c.n.astype(float), buyers, fitted.cuts["f"])
    m = _quintiles(c.total, buyers, fitted.cuts["m"])
    interval = np.where(c.days > 1, (c.last - c.first) / np.maximum(c.days - 1, 1), np.nan)
    columns = (r, f, m, recency, interval, alive, expected, value, quiet)
    weights = fitted.weights or risk.weights()
    return Run(c, today, timezone.now(), *columns, fitted, weights), fitted


@dataclass
class Run:
    """One scoring run's columns, turned into a card's Score by ``score(i)``."""

    c: Columns
    today: date
    now: datetime
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    recency: np.ndarray
    interval: np.ndarray
    alive: np.ndarray
    expected: np.ndarray
    value: np.ndarray
    quiet: np.ndarray
    fitted: Fitted = field(default_factory=lambda: Fitted(None, None, {}))
    # Learnt by the full run, or risk.weights() (INSIGHTS_RISK_WEIGHTS): read once per run.
    weights: dict = field(default_factory=risk.weights)

    def __len__(self) -> int:
        return len(self.c.ids)

    def history(self, i: int) -> risk.History:
        """What the risk signals read of the i-th card."""
        c, bought = self.c, bool(self.c.n[i])
        return risk.History(
            recency_days=int(self.recency[i]) if bought else None,
            typical_interval=_nan_to_none(self.interval[i]),
            recent_purchases=int(c.recent_n[i]),
            earlier_purchases=int(c.earlier_n[i]),
            recent_amount=float(c.recent_amount[i]),
            earlier_amount=float(c.earlier_amount[i]),
            recent_interactions=int(c.talk_recent[i]),
            earlier_interactions=int(c.talk_earlier[i]),
            open_tickets=int(c.open[i]),
            breached_tickets=int(c.late[i]),
            probability_alive=_nan_to_none(self.alive[i]),
            probability_quiet=_nan_to_none(self.quiet[i]),
            first_repeat_days=self.fitted.first_repeat_days,
            typical_quiet=self.fitted.typical_quiet,
            value_quintile=int(self.m[i]),
        )

    def score(self, i: int) -> Score:
        c, r, f, m = self.c, self.r, self.f, self.m
        bought = bool(c.n[i])
        history = self.history(i)
        level, reasons = risk.score(history, self.weights)
        worth = _nan_to_none(self.value[i])
        return Score(
            customer_id=int(c.ids[i]),
            computed_at=self.now,
            as_of=self.today,
            purchases=int(c.n[i]),
            purchase_days=int(c.days[i]),
            last_purchase=date.fromordinal(int(c.last[i])) if bought else None,
            recency_days=history.recency_days,
            typical_interval=history.typical_interval,
            r_score=int(r[i]),
            f_score=int(f[i]),
            m_score=int(m[i]),
            segment=rfm.segment(int(r[i]), int(f[i])),
            risk=level,
            band=risk.band(level)["key"],
            reasons=reasons,
            historical_value=Decimal(str(c.total[i])).quantize(CENT),
            probability_alive=history.probability_alive,
            expected_purchases=_nan_to_none(self.expected[i]),
            expected_value=None if worth is None else Decimal(str(worth)).quantize(CENT),
            value_at_risk=Decimal(str((worth or 0) * level / 100)).quantize(CENT),
        )
