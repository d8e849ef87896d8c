"""The "At risk" list: active customers at medium or high risk, by value at risk, with the reasons in
words; filters and sort in the URL; closed cards and low risks left out unless asked for."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from insights.models import Score, Segment
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
OVERDUE = {"code": "overdue", "strength": 1.0, "days": 94, "usual": 21}


def scored(name, risk, worth, *, segment=Segment.AT_RISK, owner=None, status="active", recency=30):
    card = CustomerFactory(name=name, owner=owner, status=status)
    Score.objects.create(
        customer=card,
        computed_at="2026-12-01T02:30:00+08:00",
        as_of=date(2026, 12, 1),
        risk=risk,
        reasons=[OVERDUE] if risk >= 30 else [],
        segment=segment,
        recency_days=recency,
        expected_value=Decimal(worth),
        value_at_risk=Decimal(worth) * risk / 100,
    )
    return card


def names(response) -> list[str]:
    return [s.customer.name for s in response.context["page_obj"].object_list]


@pytest.fixture
def book(staff_user):
    other = UserFactory(username="li_owner")
    return {
        "big": scored("大客户", 65, "5000.00", owner=staff_user),
        "small": scored("小客户", 90, "100.00", owner=other),
        "middle": scored("中客户", 40, "2000.00", segment=Segment.HIBERNATING, owner=other, recency=200),
        "calm": scored("安心客户", 10, "9000.00", segment=Segment.CHAMPIONS),
        "gone": scored("已销卡", 95, "8000.00", status="closed"),
    }


def test_the_list_shows_medium_and_high_risks_by_value_at_risk_with_the_reasons(staff_client, book):
    response = staff_client.get(reverse("insights:at_risk"))

    assert names(response) == ["大客户", "中客户", "小客户"]  # 3,250 · 800 · 90 at risk; closed and low risk left out
    page = response.content.decode()
    assert "No purchase for 94 days; this customer usually buys every 21." in page
    assert 'class="badge risk-high">High risk · 65' in page


@pytest.mark.parametrize(
    "query, expected",
    [
        ("band=high", ["大客户", "小客户"]),
        ("band=low", ["安心客户"]),
        ("band=all", ["大客户", "安心客户", "中客户", "小客户"]),  # 9,000 × 10 % = 900 at risk
        ("segment=hibernating", ["中客户"]),
        ("sort=risk", ["小客户", "大客户", "中客户"]),
        ("sort=recency", ["中客户", "大客户", "小客户"]),
        ("band=nonsense&sort=nope", ["大客户", "中客户", "小客户"]),  # invalid filters: the defaults
    ],
)
def test_filters_and_sort_come_from_the_url(staff_client, book, query, expected):
    assert names(staff_client.get(reverse("insights:at_risk") + "?" + query)) == expected


def test_filtering_by_owner(staff_client, staff_user, book):
    response = staff_client.get(reverse("insights:at_risk"), {"owner": staff_user.pk})
    assert names(response) == ["大客户"]


def test_the_list_is_in_chinese(staff_client, book):
    staff_client.post(reverse("set_language"), {"language": "zh-hans"})
    page = staff_client.get(reverse("insights:at_risk")).content.decode()
    assert "流失风险客户" in page and "已 94 天没有购买；该客户通常每 21 天购买一次。" in page
