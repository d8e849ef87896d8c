"""Issue 19 end to end: what happens after a card is closed, through the real pages, a real SMTP server
and a phone-sized browser for the customer.

Staff close a key account's card that holds a balance → the closure notice reaches the customer's
mailbox in Chinese (a Chinese customer), saying how the balance was settled → a day later (the
sender's clock moved on) the exit survey arrives → the customer answers it on a phone → the answer
is on the card and in the stated-vs-own reason matrix → the owner's callback is in "Follow-ups",
recorded as "wants to come back" → a Manager reinstates the card, won back by that callback.
"""

import importlib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from closures.models import Closure, ClosureReason
from customers import consent
from customers.gate import Source
from customers.models import Customer
from followups import sending
from followups.models import Answer, Followup, Kind
from tests.browser.conftest import PHONE, WIDER_THAN_THE_SCREEN, open_action
from tests.factories import TEST_PASSWORD, CustomerFactory, UserFactory
from tests.followups.servers import SmtpServer, deliver_to, free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def default_policy():
    """The default rules and messages: the flush before a browser test removed what migrations wrote."""
    importlib.import_module("followups.migrations.0004_default_policy").forward(apps, None)


@pytest.fixture
def mailbox(settings, live_server):
    """A real SMTP server the follow-ups are delivered to; links point to the live server."""
    server = SmtpServer(free_port())
    server.start()
    deliver_to(settings, server)
    settings.SITE_URL = live_server.url
    yield server
    server.stop()


def reason(code: str) -> ClosureReason:
    return ClosureReason.objects.get(code=code)


def new_page(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    return context.new_page()


def log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # the login's answer, not a race with the next goto


def test_a_closed_card_is_told_asked_called_back_and_won_back(
    page, login, browser, live_server, mailbox, default_policy
):
    owner = login("Staff", "owner_li")
    card = CustomerFactory(
        name="王芳",
        email="wangfang@example.cn",
        segment="key",
        owner=owner,
        language="zh-hans",
        balance=Decimal("120.00"),
    )
    consent.change(card, "email", by=None, source=Source("form"), how="门店签字同意", marketing=True)

    # Staff close the card; the balance is refunded in cash.
    open_action(page, card, "Close card")
    page.get_by_label("Reason").select_option(str(reason("price").pk))
    page.get_by_label("Notes").fill("客户嫌年费太贵")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    page.get_by_label("Refund", exact=True).check()
    page.get_by_label("Refund method").select_option("cash")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    card.refresh_from_db()
    assert card.status == Customer.Status.CLOSED
    closure = Closure.objects.get(customer=card)
    # The closure's event was handed to the planner after the commit: the default policy's follow-ups.
    planned = dict(Followup.objects.filter(closure=closure).values_list("kind", "assigned_to"))
    assert planned == {Kind.NOTICE: None, Kind.SURVEY: None, Kind.CALLBACK: owner.pk, Kind.WINBACK: None}

    # The sender runs: the notice reaches the customer's mailbox, in Chinese.
    sending.send_due()
    [notice] = mailbox.to("wangfang@example.cn")
    text = mailbox.text(notice)
    assert re.search(r"[\u4e00-\u9fff]", notice["Subject"]) and "王芳" in text
    assert "¥120.00" in text and "现金" in text  # how the balance was settled, in the customer's words
    assert str(notice["List-Unsubscribe"]).strip().startswith(f"<{live_server.url}/followups/u/")

    # A day later the exit survey is due.
    sending.send_due(now=timezone.now() + timedelta(days=1, minutes=5))
    survey = [m for m in mailbox.to("wangfang@example.cn") if m is not notice]
    assert len(survey) == 1
    link = re.search(rf"{re.escape(live_server.url)}/followups/s/[^\s<>\"]+/", mailbox.text(survey[0])).group(0)

    # The customer answers it on a phone, in Chinese.
    phone = new_page(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    phone.goto(link)
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], phone.evaluate(
        WIDER_THAN_THE_SCREEN
    )
    phone.locator(f'label:has(input[name="reason"][value="{reason("service").pk}"])').click()
    phone.locator('label:has(input[name="csat"][value="2"])').click()
    phone.locator('label:has(input[name="nps"][value="3"])').click()
    phone.locator('textarea[name="come_back"]').fill("<b>服务</b>好一点就回来")
    phone.locator("button.send").click()
    phone.wait_for_load_state()
    answer = Answer.objects.get(closure=closure)
    assert (answer.reason.code, answer.csat, answer.nps, answer.source) == ("service", 2, 3, "survey")
    phone.context.close()

    # The answer is on the card, typed text shown as text.
    page.goto(reverse("customers:card", args=[card.pk]))
    expect(page.get_by_text("<b>服务</b>好一点就回来").first).to_be_visible()

    # The owner's callback is in "Follow-ups" (upcoming: 3 working days), recorded as "wants to come back".
    callback = Followup.objects.get(closure=closure, kind=Kind.CALLBACK)
    page.goto(reverse("followups:queue") + "?tab=upcoming")
    assert card.customer_no in page.locator("main").inner_text()
    page.goto(reverse("followups:followup", args=[callback.pk]))
    page.get_by_label("Wants to come back").check()
    page.get_by_label("Note").first.fill("价格可以谈，客户愿意回来")
    page.get_by_role("button", name="Record").click()
    page.wait_for_load_state()
    callback.refresh_from_db()
    assert (callback.state, callback.outcome, callback.won_back) == ("done", "comes_back", False)

    # A Manager sees it, in the stated-vs-own matrix too, and reinstates the card: won back.
    manager = UserFactory(username="manager_zhao", role="Manager")
    desk = new_page(browser, live_server, locale="en-US")
    log_in(desk, manager)
    desk.goto(reverse("analytics:dashboard") + "?period=12m&part=followups")
    matrix = desk.locator("#reason-matrix")
    row = matrix.locator("tr", has=desk.get_by_role("rowheader", name="Price too high"))
    assert row.get_by_role("link", name="1").count() == 1
    assert "Agreement: 0" in desk.locator("#agreement-rate").inner_text()
    desk.goto(reverse("followups:followup", args=[callback.pk]))
    desk.get_by_role("button", name="Reinstate the card").click()
    desk.wait_for_load_state()
    card.refresh_from_db()
    callback.refresh_from_db()
    closure.refresh_from_db()
    assert card.status == Customer.Status.ACTIVE and closure.reverted_at is not None and callback.won_back
    desk.goto(reverse("customers:card", args=[card.pk]))
    expect(desk.get_by_text("Won back by a callback").first).to_be_visible()
    desk.context.close()
