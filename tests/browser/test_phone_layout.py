"""The key pages at a phone's size (390 × 844, what managers read dashboards on): nothing wider
than the screen, key figures before the filters, and the filters one tap away."""

import os
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, WIDER_THAN_THE_SCREEN
from tests.browser.sample import LONG_NAME, shop
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FILTERS = re.compile(r"^Filters")  # not "Apply filters"


@pytest.fixture
def page(phone_page):
    """A phone-sized page (replaces the desktop-sized one of conftest.py in this module)."""
    return phone_page


@pytest.fixture
def sample():
    return shop()


def assert_no_sideways_scroll(page):
    if os.environ.get("CRM_SCREENSHOTS"):  # to look at the pages: CRM_SCREENSHOTS=/tmp/shots
        name = re.sub(r"\W+", "-", page.url.split("/", 3)[-1]).strip("-") or "home"
        height = page.evaluate("document.documentElement.scrollHeight")
        for n, top in enumerate(range(0, min(height, 8 * PHONE["height"]), PHONE["height"])):
            clip = {"x": 0, "y": top, "width": PHONE["width"], "height": min(PHONE["height"], height - top)}
            page.screenshot(path=f"{os.environ['CRM_SCREENSHOTS']}/{name}-{n}.png", full_page=True, clip=clip)
    scroll_width, inner_width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert inner_width == PHONE["width"]
    assert scroll_width <= inner_width, page.evaluate(WIDER_THAN_THE_SCREEN)


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, "not visible"
    return found


@pytest.mark.parametrize("role", ["Staff", "Admin"])  # masked phones; full phones, checkboxes
def test_search_results_fit_and_show_name_phone_and_status_whole(page, login, sample, role):
    login(role)
    page.goto("/?o=customer_no")  # C000101 and C000102 first, then the closed cards (T...)
    assert page.locator("#results tbody tr").count() >= 2
    assert_no_sideways_scroll(page)
    row = page.locator("#results tbody tr").filter(has_text="C000101")  # 张伟
    name = row.get_by_role("link", name="张伟", exact=True)
    assert box(name)["height"] < 30  # one line
    status = row.locator(".badge.active")
    expect(status).to_be_visible()
    phone = row.get_by_text("+86 138 1234 5678" if role == "Admin" else "+86138****5678", exact=True)
    phone_box = box(phone)
    assert phone_box["x"] >= 0 and phone_box["x"] + phone_box["width"] <= PHONE["width"]
    long = page.locator("#results tbody tr").filter(has_text="C000102")
    long_box = box(long.get_by_role("link", name=LONG_NAME))
    assert long_box["x"] + long_box["width"] <= PHONE["width"]


def test_the_customer_card_fits(page, login, sample):
    login("Manager")
    page.goto(reverse("customers:card", args=[sample["zhang"].pk]))
    assert page.get_by_role("heading", level=1).inner_text().startswith("张伟")
    assert_no_sideways_scroll(page)
    page.get_by_text("Actions", exact=True).click()
    expect(page.get_by_role("link", name="Close card", exact=True)).to_be_visible()
    assert_no_sideways_scroll(page)


def test_the_closure_flow_fits_at_both_steps(page, login, sample):
    login("Staff")
    page.goto(reverse("closures:start", args=[sample["long"].pk, "close"]))
    assert_no_sideways_scroll(page)
    select = page.get_by_label("Reason")
    select.select_option(label="Moved to a city without a store")
    page.get_by_label("Notes").fill("客户来电要求销卡" * 10)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    expect(page.get_by_role("button", name="Confirm")).to_be_visible()
    assert_no_sideways_scroll(page)


def test_the_dashboard_fits_and_shows_key_figures_before_the_folded_filters(page, login, sample):
    login("Manager")
    by = sample["staff"][0].pk
    page.goto(f"{reverse('analytics:dashboard')}?period=all&segment=regular&by={by}")
    assert page.locator(".chart svg").count() >= 5
    assert_no_sideways_scroll(page)
    first_figure = box(page.locator(".figures .figure").first)
    toggle = page.get_by_role("button", name=FILTERS)
    assert "3 active" in toggle.inner_text()  # the period (not the default one), the segment, the staff member
    assert first_figure["y"] + first_figure["height"] <= box(toggle)["y"]
    form = page.get_by_role("form", name="Filters")
    expect(form).not_to_be_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    expect(form).to_be_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    first_figure = box(page.locator(".figures .figure").first)  # again: the click scrolled the toggle into view
    assert first_figure["y"] + first_figure["height"] <= box(form)["y"]
    assert_no_sideways_scroll(page)
    page.get_by_label("Customer segment", exact=True).select_option("")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    assert "segment=regular" not in page.url and f"by={by}" in page.url
    assert "2 active" in page.get_by_role("button", name=FILTERS).inner_text()


def test_the_closure_list_fits(page, login, sample):
    login("Manager")
    page.goto(f"{reverse('analytics:closure_list')}?period=all")
    assert page.locator(".closure-table tbody tr").count() == 24
    assert_no_sideways_scroll(page)


def test_at_1366_px_the_search_results_show_every_column(browser, live_server, sample):
    context = browser.new_context(locale="en-US", base_url=live_server.url, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        user = UserFactory(username="wide_admin", role="Admin")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)  # the login's answer, then the next goto
        # The widest results: a checkbox column and full phones and emails.
        page.goto("/?o=customer_no")
        last = box(page.locator("#results thead th:visible").last)  # "Updated" waits for 1600 px
        if os.environ.get("CRM_SCREENSHOTS"):
            page.screenshot(path=f"{os.environ['CRM_SCREENSHOTS']}/desktop-search.png")
            page.goto(f"{reverse('analytics:dashboard')}?period=all&segment=regular")
            page.screenshot(path=f"{os.environ['CRM_SCREENSHOTS']}/desktop-dashboard.png", full_page=True)
        assert last["x"] + last["width"] <= 1366
    finally:
        context.close()
