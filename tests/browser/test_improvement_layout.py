"""Improvement actions at a phone's size: the pages and the dashboard's panel fit, and the panel
shows its comparison, its incomplete window and its planned action."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.sample import shop_with_improvements
from tests.browser.test_phone_layout import assert_no_sideways_scroll

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def actions():
    return shop_with_improvements()


@pytest.fixture
def page(phone_page):
    """A phone-sized page (replaces the desktop-sized one of conftest.py in this module)."""
    return phone_page


@pytest.mark.parametrize(
    "url",
    [
        f"{reverse('analytics:dashboard')}?period=90d",
        reverse("followups:improvement_list"),
        reverse("followups:improvement_add"),
    ],
)
def test_the_pages_fit_a_phone(page, login, actions, url):
    login("Manager")
    assert page.goto(url).status == 200
    if "analytics" in url:
        page.locator("#improvements").wait_for()  # the panel comes after the page (htmx)
    assert_no_sideways_scroll(page)


def test_the_panel_shows_the_comparison_on_a_phone(page, login, actions):
    login("Manager")
    page.goto(f"{reverse('analytics:dashboard')}?period=90d")
    panel = page.locator("#improvements")
    panel.wait_for()  # loaded by htmx after the dashboard
    expect(panel.get_by_text("not proof that the action caused the change")).to_be_visible()
    expect(panel.get_by_text("Not complete yet").first).to_be_visible()
    expect(panel.get_by_text("Planned: the comparison starts on its date.")).to_be_visible()
