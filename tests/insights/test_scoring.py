"""The scoring run (insights/scoring.py): a customer whose purchases stop is warned about with the
reason in words; steady buyers are not; RFM quintiles and segments; value from the purchase model
once there are enough repeat buyers; erased cards lose their score, closed ones keep the last."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import translation

from closures.models import ClosureReason
from closures.rules import ClosureChoice
from customers.models import Customer
from insights import rfm, risk
from insights.models import Score, Segment
from insights.runs import score_customers
from tests.factories import ClosureReasonFactory, CustomerFactory, TicketFactory, UserFactory

from .shop import TODAY, buys

pytestmark = pytest.mark.django_db


def test_a_customer_whose_purchases_stop_is_warned_about_with_the_reason_in_words(shop):
    steady, stopped = shop

    assert score_customers(TODAY) == 41

    score = Score.objects.get(customer=stopped)
    assert score.recency_days == 94 and score.typical_interval == pytest.approx(21)
    assert risk.band(score.risk)["key"] in ("medium", "high")  # warned
    assert score.reasons[0]["code"] == "overdue"
    assert risk.describe(score.reasons[0]) == "No purchase for 94 days; this customer usually buys every 21."
    with translation.override("zh-hans"):
        assert risk.describe(score.reasons[0]) == "已 94 天没有购买；该客户通常每 21 天购买一次。"
    assert score.segment in (Segment.AT_RISK, Segment.LOST, Segment.HIBERNATING)
    steady_risks = list(Score.objects.filter(customer__in=steady).values_list("risk", flat=True))
    assert max(steady_risks) < score.risk
    assert np.median(steady_risks) < 25


def test_value_comes_from_the_purchase_model_once_there_are_enough_repeat_buyers(shop):
    _steady, stopped = shop
    score_customers(TODAY)

    scores = Score.objects.exclude(customer=stopped)
    assert all(0 < s.probability_alive <= 1 and s.expected_purchases > 0 and s.expected_value > 0 for s in scores)
    gone = Score.objects.get(customer=stopped)
    assert gone.probability_alive < min(s.probability_alive for s in scores)
    assert gone.historical_value == Decimal("1500.00")


def test_a_few_buyers_get_rfm_and_risk_but_no_model_value():
    card = CustomerFactory()
    buys(card, every=10, last=TODAY - timedelta(days=3), times=5)
    score_customers(TODAY)
    score = Score.objects.get(customer=card)
    assert score.probability_alive is None and score.expected_value is None
    assert (score.r_score, score.f_score, score.segment) == (1, 1, Segment.LOST)  # alone, it is every quintile's first


def test_a_card_without_purchases_is_scored_as_no_purchase_yet():
    card = CustomerFactory()
    score_customers(TODAY)
    score = Score.objects.get(customer=card)
    assert (score.segment, score.risk, score.reasons, score.last_purchase) == (Segment.NO_PURCHASE, 0, [], None)


def test_an_open_ticket_past_its_target_is_a_reason(shop):
    card = shop[0][0]
    TicketFactory(customer=card, resolution_breached=True)
    score_customers(TODAY)
    reasons = Score.objects.get(customer=card).reasons
    assert any(r["code"] == "service" and (r["open"], r["breached"]) == (1, 1) for r in reasons)


def test_erased_cards_lose_their_score_and_closed_ones_keep_the_last(shop):
    from closures import erasure, operations

    steady, _stopped = shop
    score_customers(TODAY)
    closed, erased = steady[0], steady[1]
    kept = Score.objects.get(customer=closed)
    boss, admin = UserFactory(role="Manager"), UserFactory(role="Admin")
    reason = ClosureReasonFactory(code="sc-price", category="price")
    operations.close_customer(closed, ClosureChoice("close", reason), by=boss)
    erasure.erase_customer(
        erased,
        ClosureChoice("erase", ClosureReason.objects.get(code="erasure-request")),
        by=admin,
        confirmation=erased.customer_no,
    )
    buys(closed, every=1, last=TODAY, times=3)  # would change its score, were it scored again

    assert score_customers(TODAY + timedelta(days=1)) == 39

    assert not Score.objects.filter(customer=erased).exists()
    again = Score.objects.get(customer=closed)
    assert (again.as_of, again.purchases, again.risk) == (kept.as_of, kept.purchases, kept.risk)
    assert Customer.objects.get(pk=closed.pk).status == Customer.Status.CLOSED


def test_a_second_run_replaces_the_scores(shop):
    score_customers(TODAY)
    score_customers(TODAY + timedelta(days=30))
    assert Score.objects.count() == 41
    assert set(Score.objects.values_list("as_of", flat=True)) == {TODAY + timedelta(days=30)}


def test_quintiles_put_equal_values_together_and_the_best_fifth_at_five():
    assert list(rfm.quintiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(rfm.quintiles([3, 3, 3, 3])) == [1, 1, 1, 1]
    assert list(rfm.quintiles([10, 1], higher_is_better=False)) == [1, 3]


@pytest.mark.parametrize(
    "r, f, segment",
    [
        (5, 5, Segment.CHAMPIONS),
        (3, 4, Segment.LOYAL),
        (5, 1, Segment.NEW),
        (4, 2, Segment.POTENTIAL),
        (1, 5, Segment.AT_RISK),
        (1, 1, Segment.LOST),
        (2, 2, Segment.HIBERNATING),
        (3, 2, Segment.ATTENTION),
        (0, 0, Segment.NO_PURCHASE),
    ],
)
def test_segments_follow_the_grid(r, f, segment):
    assert rfm.segment(r, f) == segment
