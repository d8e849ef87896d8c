"""The scoring run: every active customer's RFM, risk and value, read from their own history in a
few set-based queries and written to ``insights.Score``.

    score_customers(today=None)   # manage.py score_customers; returns how many cards were scored

What it reads, per active card, each in one grouped query:
    purchases   count, days with a purchase, first and last day, total, and the count and amount
                in the last 90 days and in the 90 days before (risk.PERIOD_DAYS)
    interactions in the last 90 days and the 90 days before
    tickets     open ones, and open ones past their targets or marked late

Then, in numpy over all of them at once: the RFM quintiles among the buyers (insights/rfm.py);
the BG/NBD and Gamma-Gamma fits on the buyers' history in weeks (insights/clv.py) for the
probability alive, the expected purchases over the next 52 weeks and their expected value; and the
risk with its reasons (insights/risk.py).

Closed, void and archived cards keep the score they last had (the analytics of closures read the
score at closure); erased cards lose theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import router, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from customers.models import Customer, Interaction, Purchase, local_today
from service.models import OPEN_STATUSES, Ticket

from . import clv, rfm, risk
from .models import Score

WEEKS_AHEAD = 52
MIN_BUYERS_TO_FIT = 30  # fewer repeat-buying histories than this: no model, no value figures
BATCH = 2_000
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


def _value(c: Columns, today: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(alive), expected purchases and expected value over the next 52 weeks (NaN: not modelled)."""
    nothing = np.full(len(c.ids), np.nan)
    buyers = c.n > 0
    x = (c.days[buyers] - 1).astype(float)
    if int((x > 0).sum()) < MIN_BUYERS_TO_FIT:
        return nothing, nothing.copy(), nothing.copy()
    recency = (c.last[buyers] - c.first[buyers]) / 7
    age = (today.toordinal() - c.first[buyers]) / 7
    model = clv.fit_bgnbd(x, recency, age)
    # Spend per purchase day, the first day included (the papers average the repeat purchases only;
    # the totals per day that would need are not worth a second pass over the purchases).
    spend_per_day = c.total[buyers] / np.maximum(c.days[buyers], 1)
    spend = clv.fit_gamma_gamma(x, spend_per_day)
    alive, expected, value = nothing.copy(), nothing.copy(), nothing.copy()
    alive[buyers] = model.probability_alive(x, recency, age)
    expected[buyers] = model.expected_purchases(WEEKS_AHEAD, x, recency, age)
    if spend.q > 1:
        value[buyers] = clv.clv(model, spend, x, recency, age, spend_per_day, periods=WEEKS_AHEAD)
    return alive, expected, value


def _quintiles(values: np.ndarray, buyers: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    out = np.zeros(len(values), dtype=int)
    out[buyers] = rfm.quintiles(values[buyers], higher_is_better=higher_is_better)
    return out


def _nan_to_none(value: float):
    return None if np.isnan(value) else float(value)


def score_customers(today: date | None = None, *, using: str | None = None) -> int:
    """Score every active card from its history up to ``today``; returns how many were scored."""
    using = using or router.db_for_write(Score)
    today = today or local_today()
    active = Customer.objects.using(using).filter(status=Customer.Status.ACTIVE)
    ids = np.fromiter(active.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=50_000), dtype=np.int64)
    c = _read(active.values("pk"), today, using, ids)
    alive, expected, value = _value(c, today)
    buyers = c.n > 0
    recency = np.where(buyers, today.toordinal() - c.last, 0)
    r = _quintiles(recency.astype(float), buyers, higher_is_better=False)
    f, m = _quintiles(c.n.astype(float), buyers), _quintiles(c.total, buyers)
    interval = np.where(c.days > 1, (c.last - c.first) / np.maximum(c.days - 1, 1), np.nan)
    run = Run(c, today, timezone.now(), r, f, m, recency, interval, alive, expected, value)
    fields = [field.name for field in Score._meta.concrete_fields if field.name != "customer"]
    with transaction.atomic(using=using):
        Score.objects.using(using).filter(customer__status=Customer.Status.ERASED).delete()
        for begin in range(0, len(ids), BATCH):
            scores = [run.score(i) for i in range(begin, min(begin + BATCH, len(ids)))]
            Score.objects.using(using).bulk_create(
                scores, update_conflicts=True, unique_fields=["customer"], update_fields=fields
            )
    return len(ids)


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

    def score(self, i: int) -> Score:
        c, r, f, m = self.c, self.r, self.f, self.m
        bought = bool(c.n[i])
        history = risk.History(
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
        )
        level, reasons = risk.score(history)
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
            reasons=reasons,
            historical_value=Decimal(str(c.total[i])).quantize(CENT),
            probability_alive=history.probability_alive,
            expected_purchases=_nan_to_none(self.expected[i]),
            expected_value=None if worth is None else Decimal(str(worth)).quantize(CENT),
            value_at_risk=Decimal(str((worth or 0) * level / 100)).quantize(CENT),
        )
