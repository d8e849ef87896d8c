"""Retention actions (insights/actions.py) and what each closure lost (insights/closure_values.py):
a callback or an attempt on a customer at risk, its outcome settled by the runs (retained, closed
with its reason, no purchase in time), and the closure's expected value and warning lead time."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from closures import erasure, operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm import outbox
from crm.models import AuditEntry
from customers import gate
from insights import actions
from insights.models import ClosureValue, RetentionAction, RiskWarning, Score
from insights.runs import score_customers
from tests.factories import ClosureReasonFactory, UserFactory

pytestmark = pytest.mark.django_db
Outcome = RetentionAction.Outcome


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def warned(shop, today):
    """The shop scored today: its customer who stopped buying has an open warning."""
    steady, stopped = shop
    score_customers(today)
    assert RiskWarning.objects.filter(customer=stopped, cleared_on=None).exists()
    return steady, stopped


def test_an_attempt_keeps_the_score_and_warning_it_answered_and_is_audited(warned):
    _steady, stopped = warned
    clerk = UserFactory(role="Staff")

    action = actions.log_attempt(stopped, by=clerk, channel="call", note="打电话了解情况")

    score = Score.objects.get(customer=stopped)
    assert (action.risk, action.value_at_risk) == (score.risk, score.value_at_risk)
    assert action.warning == RiskWarning.objects.get(customer=stopped)
    assert action.outcome == Outcome.OPEN and action.done_at is not None
    entry = AuditEntry.objects.get(action="insights.attempt", customer_id=stopped.pk)
    assert entry.notes == "打电话了解情况"


def test_a_callback_is_planned_for_someone_and_only_they_or_a_manager_record_it(warned, today):
    _steady, stopped = warned
    clerk, other, boss = UserFactory(role="Staff"), UserFactory(role="Staff"), UserFactory(role="Manager")
    callback = actions.plan_callback(stopped, by=boss, assigned_to=clerk, due_on=today, note="问问为什么不来了")
    assert list(actions.callbacks_due(clerk)) == [callback]

    with pytest.raises(ValidationError, match="Only the person it is assigned to"):
        actions.record_result(callback, by=other, result="打过了")
    with pytest.raises(ValidationError) as empty:
        actions.record_result(callback, by=clerk, result="  ")
    assert empty.value.message_dict == {"result": ["Say what came of the call."]}

    done = actions.record_result(callback, by=clerk, result="客户说最近太忙")
    assert done.done_at is not None and done.result == "客户说最近太忙"
    assert list(actions.callbacks_due(clerk)) == []
    with pytest.raises(ValidationError, match="already made"):
        actions.record_result(callback, by=boss, result="again")


def test_no_action_on_a_card_that_is_not_active_nor_a_callback_due_in_the_past(warned, today):
    steady, stopped = warned
    boss = UserFactory(role="Manager")
    operations.close_customer(steady[0], ClosureChoice("close", ClosureReasonFactory()), by=boss)
    with pytest.raises(ValidationError, match="reinstate it first"):
        actions.log_attempt(steady[0], by=boss, channel="call")
    with pytest.raises(ValidationError) as past:
        actions.plan_callback(stopped, by=boss, assigned_to=boss, due_on=today - timedelta(days=1))
    assert "due_on" in past.value.message_dict
    with pytest.raises(ValidationError, match="not allowed"):
        actions.log_attempt(stopped, by=UserFactory(), channel="call")  # no role
    assert not RetentionAction.objects.exists()


def test_outcomes_retained_closed_with_its_reason_and_no_purchase_in_time(warned, today, settings):
    steady, stopped = warned
    settings.RETENTION_WINDOW_DAYS = 30
    clerk, boss = UserFactory(role="Staff"), UserFactory(role="Manager")
    kept = actions.log_attempt(stopped, by=clerk, channel="offer")
    lost = actions.log_attempt(steady[0], by=clerk, channel="call")
    quiet = actions.log_attempt(steady[1], by=clerk, channel="visit")
    assert actions.settle(today) == 0  # nothing known yet

    gate.record_purchase(stopped, by=clerk, product="咖啡豆", quantity=1, amount=Decimal("50"), purchased_on=today)
    price = ClosureReasonFactory(code="rt-price", category="price")
    closure = operations.close_customer(steady[0], ClosureChoice("close", price), by=boss)

    assert actions.settle(today) == 2
    kept.refresh_from_db()
    lost.refresh_from_db()
    assert (kept.outcome, kept.outcome_on) == (Outcome.RETAINED, today)
    assert (lost.outcome, lost.closure, lost.closure.reason) == (Outcome.CLOSED, closure, price)

    assert actions.settle(today + timedelta(days=30)) == 0  # the window's last day: still waiting
    assert actions.settle(today + timedelta(days=31)) == 1
    quiet.refresh_from_db()
    assert (quiet.outcome, quiet.outcome_on) == (Outcome.LAPSED, today + timedelta(days=30))


def test_a_closure_keeps_the_value_it_lost_and_how_long_it_was_warned(warned, today):
    steady, stopped = warned
    score = Score.objects.get(customer=stopped)
    boss = UserFactory(role="Manager")
    price = ClosureReasonFactory(code="cv-price", category="price")

    closure = operations.close_customer(stopped, ClosureChoice("close", price), by=boss)
    outbox.dispatch()  # the "insights" consumer of card.closed (after the commit, in production)

    row = ClosureValue.objects.get(closure=closure)
    assert (row.reason_id, row.category, row.action, row.day) == (price.pk, "price", "close", today)
    assert row.expected_value == (score.expected_value or 0) and row.historical_value == score.historical_value
    assert (row.risk, row.warned_on, row.lead_days, row.reverted) == (score.risk, today, 0, False)
    assert RiskWarning.objects.get(customer=stopped).cleared_on == today  # the customer has left

    operations.reinstate(stopped, by=boss, note="客户回来了")
    outbox.dispatch()
    row.refresh_from_db()
    assert row.reverted is True

    unwarned = steady[0]
    assert not RiskWarning.objects.filter(customer=unwarned).exists()
    quiet = operations.close_customer(
        unwarned, ClosureChoice("void", ClosureReasonFactory(code="cv-dup", for_void=True)), by=boss
    )
    outbox.dispatch()
    assert ClosureValue.objects.get(closure=quiet).warned_on is None


def test_an_erased_customer_keeps_no_score(warned):
    steady, _stopped = warned
    erasure.erase_customer(
        steady[2],
        ClosureChoice("erase", ClosureReason.objects.get(code="erasure-request")),
        by=UserFactory(role="Admin"),
        confirmation=steady[2].customer_no,
    )
    outbox.dispatch()
    assert not Score.objects.filter(customer=steady[2]).exists()
