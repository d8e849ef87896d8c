"""The follow-ups pages at a phone's size (390 px), in English and Chinese: my callbacks, the
team's view with its filters and selection, a follow-up with its outcome form, and the card's
panel: nothing wider than the screen, no list squeezed to a character per line."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from followups.models import Answer
from tests.browser.conftest import PHONE, WIDER_THAN_THE_SCREEN
from tests.browser.test_list_layout import (
    NARROWEST_TEXT,
    SCROLLING_TABLES,
    SQUEEZED_CELLS,
    log_in,
    open_page,
)
from tests.factories import CustomerFactory, FollowupFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
LONG_NOTE = "客户说下个月搬家以后再考虑，请在周三下午两点以后再打电话，不要在上午打扰 " * 3


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_follow_ups_pages_fit_a_phone(browser, live_server, language):
    manager = UserFactory(username="phone_manager", role="Manager")
    customer = CustomerFactory(status="closed", name="欧阳娜娜娜娜娜娜娜娜", owner=manager)
    callback = FollowupFactory(
        customer=customer, assigned_to=manager, due_at=timezone.now() - dt.timedelta(days=2), attempts=3, note=LONG_NOTE
    )
    survey = FollowupFactory(
        customer=customer,
        closure=callback.closure,
        kind="survey",
        channel="email",
        state="failed",
        last_error="SMTP 421 4.7.0 Try again later, closing connection " * 3,
    )
    Answer.objects.create(
        followup=survey, closure=survey.closure, customer=customer, source="survey", csat=2, nps=3, come_back=LONG_NOTE
    )
    urls = {
        "mine": reverse("followups:queue") + "?tab=overdue",
        "team": reverse("followups:team") + "?state=",
        "follow-up": reverse("followups:followup", args=[callback.pk]),
        "card": reverse("customers:card", args=[customer.pk]),
    }
    context, page = open_page(browser, live_server, PHONE, language=language, phone=True)
    problems = {}
    try:
        log_in(page, manager.username)
        for name, url in urls.items():
            assert page.goto(url).status == 200, name
            width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            found = [f"page {width} px wide", *page.evaluate(WIDER_THAN_THE_SCREEN)] if max(width, inner) > 390 else []
            found += page.evaluate(SQUEEZED_CELLS, NARROWEST_TEXT) + page.evaluate(SCROLLING_TABLES)
            if found:
                problems[name] = found
    finally:
        context.close()
    assert problems == {}
