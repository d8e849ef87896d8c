"""The follow-up policy pages at a phone's width (390 px) and a laptop's, in English and Chinese: no
page scrolls sideways, no list squeezes a column; and the Preview button shows the sample in place."""

import pytest
from django.urls import reverse

from followups.models import MessageTemplate, Rule
from tests.browser.conftest import WIDER_THAN_THE_SCREEN
from tests.browser.test_list_layout import (
    LOCALES,
    NARROWEST_TEXT,
    SCROLLING_TABLES,
    SIZES,
    SQUEEZED_CELLS,
    log_in,
    open_page,
    screenshot,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def policy_pages() -> dict[str, str]:
    Rule.objects.create(action="close", kind="notice", channel="email", position=1)
    Rule.objects.create(
        action="close", segment="key", kind="callback", channel="phone", delay_days=3, working_days=True
    )
    winback = Rule.objects.create(
        action="close",
        category="competitor",
        segment="regular",
        kind="winback",
        channel="sms",
        delay_days=30,
        position=3,
    )
    # The default policy's migration may have left this template (a test's database is flushed only
    # after a transactional test), so it is set rather than added.
    MessageTemplate.objects.update_or_create(
        kind="winback",
        channel="sms",
        language="zh-hans",
        defaults={
            "body": "{name}您好：我们很想念您，凭此短信回店可享会员价。退订回复T或点击 {unsubscribe_link}",
            "provider_template": "SMS_0123456789",
        },
    )
    return {
        "policy": reverse("followups:policy"),
        "new rule": reverse("followups:policy_rule_create"),
        "edit rule": reverse("followups:policy_rule_edit", args=[winback.pk]),
        "delete rule": reverse("followups:policy_rule_delete", args=[winback.pk]),
        "template": reverse("followups:policy_template", args=["winback", "sms", "zh-hans"]),
        "new template": reverse("followups:policy_template", args=["survey", "email", "en"]),
    }


@pytest.mark.parametrize("language", list(LOCALES))
@pytest.mark.parametrize("size", list(SIZES))
def test_no_policy_page_scrolls_sideways_or_squeezes_a_column(browser, live_server, size, language):
    pages = policy_pages()
    admin = UserFactory(username="policy_admin", role="Admin")
    context, page = open_page(browser, live_server, SIZES[size], language=language, phone=size == "phone")
    problems = {}
    try:
        log_in(page, admin.username)
        for name, url in pages.items():
            response = page.goto(url)
            assert response.status == 200, name
            screenshot(page, size, language, f"followups {name}")
            width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            found = []
            if max(width, inner) > SIZES[size]["width"]:
                found = [f"page {width} px wide", *page.evaluate(WIDER_THAN_THE_SCREEN)]
            found += page.evaluate(SQUEEZED_CELLS, NARROWEST_TEXT)
            found += page.evaluate(SCROLLING_TABLES)
            if found:
                problems[name] = found
    finally:
        context.close()
    assert problems == {}


def test_the_preview_button_shows_the_sample_in_place_and_saves_nothing(browser, live_server):
    admin = UserFactory(username="policy_admin", role="Admin")
    templates_before = list(MessageTemplate.objects.order_by("pk").values())
    context, page = open_page(browser, live_server, SIZES["phone"], phone=True)
    try:
        log_in(page, admin.username)
        page.goto(reverse("followups:policy_template", args=["survey", "email", "zh-hans"]))
        page.locator("#id_subject").fill("{name}，请告诉我们原因")
        page.locator("#id_body").fill("<b>{name}</b>您好：{survey_link}")
        page.get_by_role("button", name="Preview").click()
        preview = page.locator("#preview")
        preview.get_by_text("张伟，请告诉我们原因").wait_for()
        assert "<b>张伟</b>您好" in preview.inner_text()  # shown as text, not as markup
        assert page.locator("#id_body").input_value() == "<b>{name}</b>您好：{survey_link}"  # still being edited
    finally:
        context.close()
    assert list(MessageTemplate.objects.order_by("pk").values()) == templates_before
