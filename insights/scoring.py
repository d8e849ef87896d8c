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


def _purchases(cards, today: date, using: str) -> dict[int, dict]:
    recent, earlier = today - timedelta(days=risk.PERIOD_DAYS), today - timedelta(days=2 * risk.PERIOD_DAYS)
    in_recent, in_earlier = Q(purchased_on__gt=recent), Q(purchased_on__gt=earlier, purchased_on__lte=recent)
    rows = (
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
    return {row.pop("customer_id"): row for row in rows}


def _interactions(cards, today: date, using: str) -> dict[int, tuple[int, int]]:
    now = timezone.make_aware(datetime.combine(today + timedelta(days=1), time()))  # the end of today
    recent, earlier = now - timedelta(days=risk.PERIOD_DAYS), now - timedelta(days=2 * risk.PERIOD_DAYS)
    rows = (
        Interaction.objects.using(using)
        .order_by()
        .filter(customer__in=cards, occurred_at__gte=earlier, occurred_at__lt=now)
        .values("customer_id")
        .annotate(
            recent=Count("id", filter=Q(occurred_at__gte=recent)), earlier=Count("id", filter=Q(occurred_at__lt=recent))
        )
    )
    return {row["customer_id"]: (row["recent"], row["earlier"]) for row in rows}


def _tickets(cards, using: str) -> dict[int, tuple[int, int]]:
    late = Q(first_response_breached=True) | Q(resolution_breached=True) | Q(resolution_due__lt=timezone.now())
    rows = (
        Ticket.objects.using(using)
        .order_by()
        .filter(customer__in=cards, status__in=[str(s) for s in OPEN_STATUSES])
        .values("customer_id")
        .annotate(open=Count("id"), late=Count("id", filter=late))
    )
    return {row["customer_id"]: (row["open"], row["late"]) for row in rows}


def _value(ids: list[int], bought: dict[int, dict], today: date) -> dict[int, tuple[float, float, float]]:
    """{card: (P(alive), expected purchases, expected value)} over the next 52 weeks, for buyers."""
    buyers = [pk for pk in ids if pk in bought]
    if not buyers:
        return {}
    rows = [bought[pk] for pk in buyers]
    x = np.array([row["days"] - 1 for row in rows], dtype=float)
    recency = np.array([(row["last"] - row["first"]).days / 7 for row in rows])
    age = np.array([(today - row["first"]).days / 7 for row in rows])
    if int((x > 0).sum()) < MIN_BUYERS_TO_FIT:
        return {}
    model = clv.fit_bgnbd(x, recency, age)
    # Spend per purchase day, the first day included (the papers average the repeat purchases only;
    # the totals per day that would need are not worth a second pass over the purchases).
    spend_per_day = np.array([float(row["total"] or 0) / max(row["days"], 1) for row in rows])
    spend = clv.fit_gamma_gamma(x, spend_per_day)
    alive = model.probability_alive(x, recency, age)
    expected = model.expected_purchases(WEEKS_AHEAD, x, recency, age)
    value = clv.clv(model, spend, x, recency, age, spend_per_day, periods=WEEKS_AHEAD) if spend.q > 1 else None
    return {
        pk: (float(alive[i]), float(expected[i]), None if value is None else float(value[i]))
        for i, pk in enumerate(buyers)
    }


def score_customers(today: date | None = None, *, using: str | None = None) -> int:
    """Score every active card from its history up to ``today``; returns how many were scored."""
    using = using or router.db_for_write(Score)
    today = today or local_today()
    cards = Customer.objects.using(using).filter(status=Customer.Status.ACTIVE).values("pk")
    ids = sorted(Customer.objects.using(using).filter(status=Customer.Status.ACTIVE).values_list("pk", flat=True))
    bought = _purchases(cards, today, using)
    talked, tickets = _interactions(cards, today, using), _tickets(cards, using)
    value = _value(ids, bought, today)
    buyers = [pk for pk in ids if pk in bought]
    recency = [(today - bought[pk]["last"]).days for pk in buyers]
    r = dict(zip(buyers, rfm.quintiles(recency, higher_is_better=False), strict=True))
    f = dict(zip(buyers, rfm.quintiles([bought[pk]["n"] for pk in buyers]), strict=True))
    m = dict(zip(buyers, rfm.quintiles([float(bought[pk]["total"] or 0) for pk in buyers]), strict=True))
    now = timezone.now()
    scores = []
    for pk in ids:
        row = bought.get(pk)
        alive, expected, worth = value.get(pk, (None, None, None))
        interval = (row["last"] - row["first"]).days / (row["days"] - 1) if row and row["days"] > 1 else None
        history = risk.History(
            recency_days=(today - row["last"]).days if row else None,
            typical_interval=interval,
            recent_purchases=row["recent_n"] if row else 0,
            earlier_purchases=row["earlier_n"] if row else 0,
            recent_amount=float(row["recent_amount"] or 0) if row else 0.0,
            earlier_amount=float(row["earlier_amount"] or 0) if row else 0.0,
            recent_interactions=talked.get(pk, (0, 0))[0],
            earlier_interactions=talked.get(pk, (0, 0))[1],
            open_tickets=tickets.get(pk, (0, 0))[0],
            breached_tickets=tickets.get(pk, (0, 0))[1],
            probability_alive=alive,
        )
        level, reasons = risk.score(history)
        scores.append(
            Score(
                customer_id=pk,
                computed_at=now,
                as_of=today,
                purchases=row["n"] if row else 0,
                purchase_days=row["days"] if row else 0,
                last_purchase=row["last"] if row else None,
                recency_days=history.recency_days,
                typical_interval=interval,
                r_score=int(r.get(pk, 0)),
                f_score=int(f.get(pk, 0)),
                m_score=int(m.get(pk, 0)),
                segment=rfm.segment(int(r.get(pk, 0)), int(f.get(pk, 0))),
                risk=level,
                reasons=reasons,
                historical_value=(row["total"] or Decimal(0)) if row else Decimal(0),
                probability_alive=alive,
                expected_purchases=expected,
                expected_value=None if worth is None else Decimal(str(worth)).quantize(CENT),
            )
        )
    fields = [f.name for f in Score._meta.concrete_fields if f.name != "customer"]
    with transaction.atomic(using=using):
        Score.objects.using(using).filter(customer__status=Customer.Status.ERASED).delete()
        Score.objects.using(using).bulk_create(
            scores, batch_size=BATCH, update_conflicts=True, unique_fields=["customer"], update_fields=fields
        )
    return len(scores)
