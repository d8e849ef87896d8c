"""The card's "Churn warning and customer value" panel: the risk band and its reasons in words, the
RFM segment and the value, as the last scoring run left them; in Chinese too."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from insights.runs import score_customers
from tests.factories import CustomerFactory

from .test_scoring import buys

pytestmark = pytest.mark.django_db


def test_staff_read_the_risk_and_its_reasons_on_the_card(staff_client):
    today = timezone.localdate()
    card = CustomerFactory(name="王静")
    buys(card, every=21, last=today - timedelta(days=94), times=15)
    score_customers(today)

    page = staff_client.get(reverse("customers:card", args=[card.pk])).content.decode()

    assert "Churn warning and customer value" in page
    assert "No purchase for 94 days; this customer usually buys every 21." in page
    assert 'class="badge risk-high">High risk' in page
    assert "15 purchases" in page and "1,500.00" in page


def test_the_panel_is_in_chinese(staff_client):
    today = timezone.localdate()
    card = CustomerFactory()
    buys(card, every=21, last=today - timedelta(days=94), times=15)
    score_customers(today)

    staff_client.post(reverse("set_language"), {"language": "zh-hans"})
    page = staff_client.get(reverse("customers:card", args=[card.pk])).content.decode()

    assert "流失预警与客户价值" in page
    assert "已 94 天没有购买；该客户通常每 21 天购买一次。" in page


def test_a_card_not_scored_yet_says_when_it_will_be(staff_client):
    card = CustomerFactory(customer_since=date(2025, 1, 1))
    page = staff_client.get(reverse("customers:card", args=[card.pk])).content.decode()
    assert "Not scored yet: every active customer is scored each night." in page
