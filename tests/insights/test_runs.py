"""The scoring runs (insights/runs.py): the nightly full run and the incremental run of the cards
changed since; the warnings they raise and clear; the day's risk by band, segment and owner; and
no score older than one run."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from closures import operations
from closures.rules import ClosureChoice
from customers import gate
from customers.models import Customer
from insights import risk
from insights.models import RiskDay, RiskWarning, Score, ScoringRun
from insights.runs import changed_cards, score_changed, score_customers
from tests.factories import ClosureReasonFactory, UserFactory

from .shop import TODAY, buys

pytestmark = pytest.mark.django_db
FIELDS = ("risk", "reasons", "segment", "r_score", "f_score", "m_score", "expected_value", "probability_alive")


def at(day: date, hour: int = 12, minute: int = 0):
    """The clock at ``hour``:``minute`` of ``day``, local time."""
    moment = timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_the_incremental_run_rescores_only_the_changed_cards_with_the_nightly_models(shop):
    steady, stopped = shop
    score_customers(TODAY)
    before = {s.customer_id: s for s in Score.objects.all()}
    warned = Score.objects.get(customer=stopped).risk
    gate.record_purchase(
        stopped, by=UserFactory(role="Staff"), product="咖啡豆", quantity=1, amount=Decimal("80"), purchased_on=TODAY
    )
    assert score_changed(TODAY) == 1

    after = Score.objects.get(customer=stopped)
    assert after.purchases == before[stopped.pk].purchases + 1 and after.recency_days == 0
    assert after.risk < warned
    untouched = Score.objects.get(customer=steady[3])
    assert untouched.computed_at == before[steady[3].pk].computed_at
    run = ScoringRun.objects.first()
    assert (run.kind, run.cards) == (ScoringRun.Kind.CHANGED, 1)


def test_a_card_rescored_without_a_change_scores_as_in_the_full_run(shop):
    """The incremental run uses the full run's fitted models and RFM cut points, so its scores compare."""
    steady, _stopped = shop
    score_customers(TODAY)
    full = {s.customer_id: s for s in Score.objects.all()}
    cards = steady[:5]
    Customer.objects.filter(pk__in=[c.pk for c in cards]).update(updated_at=timezone.now())

    assert score_changed(TODAY) == 5

    for card in cards:
        again = Score.objects.get(customer=card)
        assert [getattr(again, f) for f in FIELDS] == [getattr(full[card.pk], f) for f in FIELDS]


def test_without_a_full_run_yet_the_incremental_run_does_one(shop):
    assert score_changed(TODAY) == 41
    assert ScoringRun.objects.get().kind == ScoringRun.Kind.FULL


def test_changed_cards_are_found_by_purchases_interactions_tickets_and_card_changes(shop):
    steady, stopped = shop
    since = timezone.now()
    gate.record_interaction(
        steady[0], by=UserFactory(role="Staff"), kind="call", occurred_at=since, summary="回访", outcome=""
    )
    Customer.objects.filter(pk=steady[1].pk).update(updated_at=since)
    buys(stopped, every=1, last=TODAY, times=1)

    assert changed_cards(since, using="default") == sorted([steady[0].pk, steady[1].pk, stopped.pk])


def test_no_score_is_older_than_one_run_as_the_clock_moves(shop):
    steady, stopped = shop
    clerk = UserFactory(role="Staff")
    day = timezone.localdate() + timedelta(days=1)  # the clock moves on from after the shop was set up
    for _night in range(3):
        with at(day, 2):
            score_customers()
        with at(day, 11):
            gate.record_purchase(steady[0], by=clerk, product="茶", quantity=1, amount=Decimal("20"), purchased_on=day)
        with at(day, 11, 15):
            assert score_changed() == 1
        assert set(Score.objects.values_list("as_of", flat=True)) == {day}
        assert Score.objects.get(customer=steady[0]).last_purchase == day  # this morning's purchase counts
        assert Score.objects.get(customer=stopped).recency_days == 94 + (day - TODAY).days
        day += timedelta(days=1)


def test_a_warning_is_raised_once_marked_high_and_cleared_when_the_customer_buys_again(shop):
    _steady, stopped = shop
    score_customers(TODAY)
    warning = RiskWarning.objects.get(customer=stopped)
    assert warning.raised_on == TODAY and warning.cleared_on is None
    assert warning.reasons[0]["code"] == "overdue" and warning.peak_risk == Score.objects.get(customer=stopped).risk

    score_customers(TODAY + timedelta(days=20))  # longer overdue: the same warning, higher
    assert RiskWarning.objects.filter(customer=stopped).count() == 1
    assert RiskWarning.objects.get(customer=stopped).peak_risk >= warning.peak_risk

    buys(stopped, every=7, last=TODAY + timedelta(days=21), times=6)
    score_customers(TODAY + timedelta(days=21))
    cleared = RiskWarning.objects.get(customer=stopped)
    assert cleared.cleared_on == TODAY + timedelta(days=21)


def test_the_days_risk_counts_are_a_recount_of_the_active_cards_scores(shop):
    steady, _stopped = shop
    owner = UserFactory(role="Staff")
    Customer.objects.filter(pk__in=[c.pk for c in steady[:10]]).update(owner=owner)
    score_customers(TODAY)
    operations.close_customer(
        steady[11], ClosureChoice("close", ClosureReasonFactory()), by=UserFactory(role="Manager")
    )
    score_changed(TODAY)

    assert all(s.band == risk.band(s.risk)["key"] for s in Score.objects.all())  # the run's bands
    recount = (
        Score.objects.filter(customer__status=Customer.Status.ACTIVE)
        .values("band", "segment", "customer__owner_id")
        .annotate(n=Count("pk"), var=Sum("value_at_risk"))
    )
    stored = RiskDay.objects.filter(day=TODAY)
    assert {(r.band, r.segment, r.owner_id): (r.customers, r.value_at_risk) for r in stored} == {
        (r["band"], r["segment"], r["customer__owner_id"]): (r["n"], r["var"]) for r in recount
    }
    assert sum(r.customers for r in stored) == 40  # the closed card is not at risk any more
    assert sum(r.customers for r in stored.filter(owner_id=owner.pk)) == 10
