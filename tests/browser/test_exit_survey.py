"""The exit survey on a phone (390 × 844, the customer's main reader): the link from the message
opens the survey, nothing is wider than the screen, every choice is a large tap target, and the
answers sent land on the closure."""

import os

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from followups import links
from followups.models import Answer, Followup, Kind
from tests.browser.conftest import PHONE, WIDER_THAN_THE_SCREEN
from tests.browser.test_accessibility import violations
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def survey_link():
    staff = UserFactory(username="browser_survey_staff", role="Staff")
    card = CustomerFactory(name="Anna Smith", language="en")
    closure = operations.close_customer(card, ClosureChoice("close", ClosureReason.objects.get(code="price")), by=staff)
    followup = Followup.objects.create(
        kind=Kind.SURVEY, channel="email", customer=card, closure=closure, due_at=timezone.now(), state="sent"
    )
    return followup, reverse("followups:survey", kwargs={"token": links.survey_token(followup)})


def assert_fits_the_phone(page):
    if os.environ.get("CRM_SCREENSHOTS"):  # to look at the pages: CRM_SCREENSHOTS=/tmp/shots
        name = "survey-" + page.evaluate("document.title").replace(" ", "-").replace("/", "-")
        page.screenshot(path=f"{os.environ['CRM_SCREENSHOTS']}/{name}.png", full_page=True)
    scroll_width, inner_width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert inner_width == PHONE["width"]
    assert scroll_width <= inner_width, page.evaluate(WIDER_THAN_THE_SCREEN)


def test_a_customer_answers_the_survey_on_a_phone(phone_page, survey_link):
    followup, url = survey_link
    page = phone_page
    page.goto(url)
    expect(page.get_by_role("heading", name="Dear Anna, we are sorry to see you go")).to_be_visible()
    assert_fits_the_phone(page)
    price = page.get_by_text("The price was too high for me", exact=True)
    assert price.bounding_box()["height"] >= 20
    assert page.locator("label.choice").first.bounding_box()["height"] >= 44  # a whole row to tap
    price.click()
    satisfaction = page.get_by_role("group", name="How satisfied were you with us overall?")
    two = satisfaction.get_by_label("2", exact=True)
    assert two.bounding_box()["height"] >= 44 and two.bounding_box()["width"] >= 44  # the whole button
    two.check()
    page.get_by_role("group", name="How likely are you to recommend us to a friend?").get_by_label(
        "3", exact=True
    ).check()
    page.get_by_label("What would bring you back?").fill("A lower annual fee")
    page.get_by_text("No, please do not contact me", exact=True).click()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Thank you, Anna!")).to_be_visible()
    assert_fits_the_phone(page)
    answer = Answer.objects.get(followup=followup)
    assert (answer.reason.code, answer.csat, answer.nps) == ("price", 2, 3)
    assert answer.come_back == "A lower annual fee" and answer.contact_again is False
    assert answer.closure_id == followup.closure_id


def test_the_customer_switches_the_survey_to_chinese(phone_page, survey_link):
    _followup, url = survey_link
    phone_page.goto(url)
    phone_page.get_by_role("link", name="简体中文").click()
    phone_page.wait_for_load_state()
    assert phone_page.locator("html").get_attribute("lang") == "zh-hans"
    expect(phone_page.get_by_text("价格对我来说太高了", exact=True)).to_be_visible()
    assert_fits_the_phone(phone_page)


@pytest.fixture
def axe_phone_page(browser, live_server):
    """A phone-sized page with CSP bypassed so that the test may inject axe (as test_accessibility.py)."""
    context = browser.new_context(
        locale="en-US", base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_the_survey_and_its_errors_have_no_accessibility_violations(axe_phone_page, survey_link):
    page = axe_phone_page
    page.goto(survey_link[1])
    assert violations(page) == []
    page.get_by_role("button", name="Send my answers").click()  # nothing answered
    page.wait_for_load_state()
    expect(page.get_by_text("Please answer at least one question.")).to_be_visible()
    assert violations(page) == []
