"""The card's "Churn warning and value" panel (customers.panels), registered in InsightsConfig.ready:
the card's risk with its reasons in words, its RFM segment and its value, as the last scoring run
left them, a sparkline of its purchases by month, and its last retention actions. Three queries
whatever the history: the score by the card's key, the last 24 months' purchases summed by month
(the purchase_customer_date index; ``purchased_on`` is a date, so the months need no time zone),
and the card's last three retention actions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm.formatting import money
from customers.models import Purchase, local_today

from . import risk
from .models import RetentionAction, Score


def retention(request, customer) -> dict:
    """The card's last retention actions with their outcomes (one query; none without the permission)."""
    if not request.user.has_perm("insights.view_retentionaction"):
        return {"actions": []}
    rows = RetentionAction.objects.filter(customer_id=customer.pk).select_related("assigned_to", "closure__reason")
    return {"actions": list(rows.order_by("-created_at", "-pk")[:3])}


MONTHS = 24
# The sparkline's drawing: one bar a month, BAR wide with GAP between, at most HEIGHT high.
BAR, GAP, HEIGHT = 6, 2, 32
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _month_starts(today: date) -> list[date]:
    """The first days of the last MONTHS months, oldest first, this month last."""
    index = today.year * 12 + today.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - MONTHS + 1, index + 1)]


def monthly_purchases(customer_id: int, today: date) -> list[tuple[date, Decimal]]:
    """(first day of the month, amount bought) for each of the last MONTHS months, zero without a purchase."""
    months = _month_starts(today)
    rows = (
        Purchase.objects.filter(customer_id=customer_id, purchased_on__gte=months[0], purchased_on__lte=today)
        .annotate(month=TruncMonth("purchased_on"))
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("month", "total")
    )
    found = {(month.year, month.month): Decimal(total).quantize(CENT) for month, total in rows}
    return [(month, found.get((month.year, month.month), ZERO)) for month in months]


def sparkline(months: list[tuple[date, Decimal]]) -> dict | None:
    """The bars of an inline SVG and its summary in words; None when nothing was bought."""
    highest = max((amount for _month, amount in months), default=Decimal("0"))
    if highest <= 0:
        return None
    peak = next(month for month, amount in months if amount == highest)
    bars = []
    for i, (month, amount) in enumerate(months):
        height = round(HEIGHT * float(amount / highest), 1) if amount else 0
        label = date_format(month, "YEAR_MONTH_FORMAT")
        bars.append(
            {
                "x": i * (BAR + GAP),
                "y": f"{HEIGHT - height:g}",  # SVG numbers: never localised, no trailing ".0"
                "height": f"{height:g}",
                "amount": amount,
                "title": _("%(month)s: %(amount)s") % {"month": label, "amount": money(amount)},
            }
        )
    summary = _("Purchases by month, last %(months)d months: highest %(amount)s in %(month)s.") % {
        "months": MONTHS,
        "amount": money(highest),
        "month": date_format(peak, "YEAR_MONTH_FORMAT"),
    }
    return {"bars": bars, "summary": summary, "width": MONTHS * (BAR + GAP) - GAP, "height": HEIGHT, "bar": BAR}


def context(request, customer) -> dict:
    purchases = sparkline(monthly_purchases(customer.pk, local_today()))
    score = Score.objects.filter(customer_id=customer.pk).first()
    if score is None:
        return {"score": None, "sparkline": purchases, **retention(request, customer)}
    return {
        **retention(request, customer),
        "score": score,
        "band": risk.band(score.risk),
        "reasons": [risk.describe(reason) for reason in score.reasons],
        "alive_percent": None if score.probability_alive is None else round(100 * score.probability_alive),
        "sparkline": purchases,
    }
