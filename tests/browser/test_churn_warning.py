"""Issue 21 end to end: a customer whose purchases stop is flagged with the reason in words; their
owner finds them in "Customers at risk", plans a callback, makes it and records it; the customer
buys again, the next scoring run settles the outcome as retained, and a Manager's churn-warning
dashboard counts it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from customers import gate
from insights.models import RetentionAction
from insights.runs import score_changed, score_customers
from tests.factories import CustomerFactory
from tests.insights.shop import buys

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_warning_becomes_a_callback_whose_outcome_the_dashboard_counts(page, login, browser, live_server):
    today = timezone.localdate()
    owner = login("Staff", "owner_li")
    for n in range(35):  # enough repeat buyers for the purchase model
        buys(CustomerFactory(), every=7 + n, last=today - timedelta(days=n % 5 + 1), times=6 + n % 7)
    stopped = CustomerFactory(name="王静", owner=owner)
    buys(stopped, every=21, last=today - timedelta(days=94), times=15)
    score_customers(today)

    page.goto(reverse("customers:card", args=[stopped.pk]))
    panel = page.locator(".insights-panel")
    expect(panel.locator(".badge")).to_contain_text("risk")
    expect(panel).to_contain_text("No purchase for 94 days; this customer usually buys every 21.")

    page.get_by_role("link", name="Customers at risk").first.click()
    row = page.locator("tr", has_text="王静")
    expect(row).to_contain_text("No purchase for 94 days")
    row.get_by_role("link", name="Callback").click()
    page.get_by_label("Call by").fill((today + timedelta(days=1)).isoformat())
    page.get_by_label("What to talk about").fill("问问最近为什么没来")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Customers at risk")).to_be_visible()
    expect(page.get_by_text("Callback planned.")).to_be_visible()

    page.get_by_role("link", name="Retention actions").first.click()
    page.get_by_role("link", name="Record the callback").click()
    page.get_by_label("What came of the call").fill("客户说下周来店")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Callback recorded.")).to_be_visible()
    callback = RetentionAction.objects.get(customer=stopped)
    assert (callback.assigned_to, callback.result) == (owner, "客户说下周来店")

    gate.record_purchase(stopped, by=owner, product="咖啡豆", quantity=1, amount=Decimal("88"), purchased_on=today)
    score_changed(today)  # the next run (every 15 minutes) rescores the card and settles the outcome

    page.goto(reverse("insights:actions"))
    expect(page.locator("tr", has_text="王静")).to_contain_text("Retained: bought again")

    page.context.clear_cookies()
    login("Manager", "boss_wang")
    page.get_by_role("link", name="Churn warning").first.click()
    panel = page.locator("#churn-actions")
    callbacks = panel.locator("#actions-by-outcome tbody tr", has_text="Callback")
    expect(callbacks).to_contain_text("100")  # retention rate: the one settled callback kept its customer
    expect(panel.locator("#actions-by-outcome tfoot")).to_contain_text("1")
