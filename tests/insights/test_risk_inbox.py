"""The to-do inbox (crm/inbox.py) from insights: "Customers newly at risk" counts the user's own
cards whose warning became news since they last looked, bumped by the scoring run that raised it;
"Retention callbacks due" counts their callbacks not made, due today or earlier. The "At risk"
list's "newly at risk" filter is where the inbox links to."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import inbox
from customers.models import local_today
from insights import actions
from insights.inbox import CALLBACKS_DUE, NEW_AT_RISK
from insights.models import RetentionAction, RiskWarning
from insights.runs import score_customers
from tests.closures.asking import header_count
from tests.factories import CustomerFactory, UserFactory

from .shops import steady, stopped

pytestmark = pytest.mark.django_db
SEARCH = reverse("customers:search")
INBOX = reverse("inbox")
REASON = "No purchase for 94 days; this customer usually buys every 21."


def test_a_run_that_warns_about_my_card_raises_my_count_until_i_look(staff_client, staff_user):
    other = UserFactory(username="staff_other", role="Staff")
    mine = stopped(staff_user, customer_no="R000001")
    stopped(other, customer_no="R000002")
    steady(staff_user, customer_no="R000003")
    assert header_count(staff_client.get(SEARCH).content.decode()) == 0  # counted, and cached, before the run

    score_customers()

    assert header_count(staff_client.get(SEARCH).content.decode()) == 1
    assert inbox.counts(staff_user)[NEW_AT_RISK] == 1
    page = staff_client.get(INBOX).content.decode()
    assert "Customers newly at risk" in page
    assert f"R000001 {mine.name}" in page and REASON in page and ">New<" in page
    assert "R000002" not in page and "R000003" not in page
    assert f"?owner={staff_user.pk}&amp;new=7" in page
    assert header_count(staff_client.get(SEARCH).content.decode()) == 0
    assert ">New<" not in staff_client.get(INBOX).content.decode()  # still listed, no longer new


def test_a_warning_that_turns_high_is_news_again(staff_client, staff_user):
    card = stopped(staff_user)
    score_customers()
    staff_client.get(INBOX)
    warning = RiskWarning.objects.get(customer=card)
    warning.high_on, warning.alerted_at = None, timezone.now() - timedelta(days=1)  # as if raised at medium
    warning.save()

    score_customers()

    assert RiskWarning.objects.get(customer=card).high_on == local_today()
    assert header_count(staff_client.get(SEARCH).content.decode()) == 1


def test_retention_callbacks_due_today_or_earlier_are_counted_until_made(staff_client, staff_user, manager_user):
    card = CustomerFactory()
    today = local_today()
    due = actions.plan_callback(card, by=manager_user, assigned_to=staff_user, due_on=today, note="回访")
    RetentionAction.objects.create(
        customer=CustomerFactory(),
        kind=RetentionAction.Kind.CALLBACK,
        assigned_to=staff_user,
        due_on=today - timedelta(days=2),
    )
    actions.plan_callback(CustomerFactory(), by=manager_user, assigned_to=staff_user, due_on=today + timedelta(days=1))
    actions.plan_callback(CustomerFactory(), by=manager_user, assigned_to=manager_user, due_on=today)

    assert header_count(staff_client.get(SEARCH).content.decode()) == 2
    assert inbox.counts(staff_user)[CALLBACKS_DUE] == 2
    page = staff_client.get(INBOX).content.decode()
    assert "Retention callbacks due" in page and card.customer_no in page and "overdue since" in page

    actions.record_result(due, by=staff_user, result="客户下周来店")

    assert header_count(staff_client.get(SEARCH).content.decode()) == 1


def test_the_at_risk_list_shows_the_customers_newly_at_risk(staff_client, staff_user):
    stopped(staff_user, customer_no="R000031")
    older = stopped(staff_user, customer_no="R000032")
    score_customers()
    RiskWarning.objects.filter(customer=older).update(alerted_at=timezone.now() - timedelta(days=3))

    page = staff_client.get(reverse("insights:at_risk"), {"owner": staff_user.pk, "new": "1"}).content.decode()
    week = staff_client.get(reverse("insights:at_risk"), {"owner": staff_user.pk, "new": "7"}).content.decode()

    assert "R000031" in page and "R000032" not in page
    assert "R000031" in week and "R000032" in week
