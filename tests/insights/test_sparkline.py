"""The card's sparkline of purchases by month: the last 24 months as bars of an inline SVG, summed by
month (months without a purchase are zero), summarised in words for screen readers; a card without
purchases in those months says so instead."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from insights.card_panel import monthly_purchases
from tests.factories import CustomerFactory, PurchaseFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 6)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr("insights.card_panel.local_today", lambda: TODAY)
    return TODAY


def bars(html: str) -> list[tuple[str, str]]:
    """(amount, title) of each bar, oldest month first."""
    return re.findall(r'<rect [^>]*data-amount="([^"]+)"><title>([^<]+)</title></rect>', html)


def test_the_bars_are_the_amounts_bought_each_month_with_zero_for_months_without(staff_client, today):
    card = CustomerFactory()
    PurchaseFactory(customer=card, amount=Decimal("100.00"), purchased_on=date(2026, 3, 2))
    PurchaseFactory(customer=card, amount=Decimal("1134.00"), purchased_on=date(2026, 3, 30))
    PurchaseFactory(customer=card, amount=Decimal("50.50"), purchased_on=date(2026, 12, 1))
    PurchaseFactory(customer=card, amount=Decimal("80.00"), purchased_on=date(2025, 1, 31))  # the first month shown
    PurchaseFactory(customer=card, amount=Decimal("999.00"), purchased_on=date(2024, 12, 31))  # before: not shown
    PurchaseFactory(amount=Decimal("777.00"), purchased_on=date(2026, 5, 5))  # someone else's

    html = staff_client.get(reverse("customers:card", args=[card.pk])).content.decode()

    shown = bars(html)
    assert len(shown) == 24
    assert shown[0] == ("80.00", "2025-01: ¥80.00")
    assert shown[14] == ("1234.00", "2026-03: ¥1,234.00")
    assert shown[23] == ("50.50", "2026-12: ¥50.50")
    assert [amount for amount, _title in shown].count("0.00") == 21
    assert "Purchases by month, last 24 months: highest ¥1,234.00 in 2026-03." in html
    assert 'role="img" aria-labelledby="sparkline-title"' in html
    # The highest month's bar is the full height; a month without purchases has none.
    heights = re.findall(r'<rect [^>]*height="([^"]+)" data-amount', html)
    assert heights[14] == "32" and heights[1] == "0"


def test_months_are_summed_in_one_query(today, django_assert_num_queries):
    card = CustomerFactory()
    for day in (1, 10, 20):
        PurchaseFactory(customer=card, amount=Decimal("10.00"), purchased_on=date(2026, 11, day))
    with django_assert_num_queries(1):
        months = monthly_purchases(card.pk, today)
    assert months[-2] == (date(2026, 11, 1), Decimal("30.00"))
    assert months[-1] == (date(2026, 12, 1), Decimal("0.00"))


def test_a_card_without_purchases_shows_a_sentence_instead(staff_client, today):
    card = CustomerFactory()
    PurchaseFactory(customer=card, purchased_on=date(2023, 6, 1))  # long ago: not in the 24 months

    html = staff_client.get(reverse("customers:card", args=[card.pk])).content.decode()

    assert "<svg" not in html.split("Purchases by month")[1].split("</section>")[0]
    assert "No purchase in the last 24 months." in html
