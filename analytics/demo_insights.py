"""Churn warning in the demo data (seed_demo): scores before and after the demo's closures (so each
closure keeps the value it lost and, where the card was at risk, how long it had been warned), and a
dozen retention actions on customers at risk, some settled, so "Customers at risk", "Retention
actions", the card's panel and the churn-warning dashboard have something to show on ``make run``.

The actions go through insights.actions as people would (each at its simulated day: the clock is
patched for the call), and the outcomes are settled by insights.actions.settle, as the runs do.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm.roles import MANAGER, STAFF
from customers import gate
from insights import actions, closure_values, risk
from insights.models import RetentionAction, Score
from insights.runs import score_customers

SEED = 2026 + 21
ACTIONS = 12


def score_before_closures() -> int:
    """Every demo card scored while still active: the closures that follow read these scores."""
    return score_customers()


def seed_insights(users: dict, now: dt.datetime) -> dict:
    """Score again (closed cards keep their last score), record what each closure lost, act on some
    customers at risk; returns what was made."""
    rng = random.Random(SEED)
    scored = score_customers()
    lost = closure_values.rebuild()
    staff, manager = users[STAFF], users[MANAGER]
    at_risk = list(
        Score.objects.filter(customer__status="active", risk__gte=risk.lowest("medium")).order_by(
            "-value_at_risk", "pk"
        )[: ACTIONS * 2]
    )
    made = 0
    reason = ClosureReason.objects.active().filter(for_close=True, notes_required=False).order_by("pk").first()
    for k, score in enumerate(rng.sample(at_risk, min(ACTIONS, len(at_risk)))):
        moment = now - dt.timedelta(days=rng.randint(70, 90) if k % 4 == 3 else rng.randint(8, 45), hours=3)
        with mock.patch("django.utils.timezone.now", return_value=moment):
            if k % 3 == 0:
                due = timezone.localdate(moment) + dt.timedelta(days=2)
                callback = actions.plan_callback(
                    score.customer, by=manager, assigned_to=staff, due_on=due, note="了解最近为什么没来"
                )
                if k % 2 == 0:
                    actions.record_result(callback, by=staff, result="客户说最近出差，下月再来")
            else:
                channel = rng.choice(RetentionAction.Channel.values)
                actions.log_attempt(score.customer, by=staff, channel=channel, note="发了会员日优惠")
        made += 1
        later = moment + dt.timedelta(days=5)
        with mock.patch("django.utils.timezone.now", return_value=later):
            if k % 4 == 1:  # came back and bought: retained
                gate.record_purchase(
                    score.customer, by=staff, product="会员日套餐", quantity=1, amount=Decimal("168.00"),
                    purchased_on=timezone.localdate(later),
                )  # fmt: skip
            elif k % 4 == 2 and reason is not None and not (score.customer.balance or score.customer.points):
                # left anyway: closed, with its reason (a card without money to settle)
                operations.close_customer(score.customer, ClosureChoice("close", reason), by=manager)
    actions.settle()
    closure_values.rebuild()  # the closures just made (their events are handled after the commit)
    return {"scored": scored, "closures": lost, "actions": made}
