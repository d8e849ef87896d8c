"""Logging in as each role shows that role's navigation; the language switch works."""

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        ("Staff", ["Customers", "New customer"], ["Closure analytics", "Audit log", "Users", "Import"]),
        ("Manager", ["Customers", "Closure analytics", "Audit log", "Approvals"], ["Users", "Import", "Reasons"]),
        ("Admin", ["Customers", "Closure analytics", "Users", "Import", "Reasons"], []),
    ],
)
def test_each_role_sees_its_navigation_and_nothing_more(page, login, role, visible, hidden):
    login(role)
    nav = page.get_by_role("navigation", name="Main")
    for label in visible:
        assert nav.get_by_role("link", name=label, exact=True).count() == 1, label
    for label in hidden:
        assert nav.get_by_role("link", name=label, exact=True).count() == 0, label


def test_anonymous_visitor_is_sent_to_the_login_page(page):
    page.goto("/")
    assert "/accounts/login/" in page.url
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_wrong_password_shows_an_error(page):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong-password-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".form-errors")).to_be_visible()


def test_switching_to_chinese_and_back(page, login):
    login("Staff")
    page.get_by_label("Language").select_option("zh-hans")
    with page.expect_navigation():
        page.get_by_role("button", name="Switch").click()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("link", name="客户", exact=True).count() >= 1
    page.get_by_label("语言").select_option("en")
    with page.expect_navigation():
        page.get_by_role("button", name="切换").click()
    assert page.locator("html").get_attribute("lang") == "en"


def test_moving_through_the_languages_with_the_arrow_keys_does_not_change_the_page(page, login):
    # WCAG 3.2.2: changing a select's value must not change the context; only the button does.
    login("Staff")
    url = page.url
    select = page.get_by_label("Language")
    select.focus()
    page.keyboard.press("ArrowDown")
    select.dispatch_event("change")  # what a browser fires as the arrow moves the choice
    page.wait_for_timeout(300)
    assert page.url == url
    assert page.locator("html").get_attribute("lang") == "en"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Switch"


def test_a_search_typed_after_the_session_ended_goes_to_the_login_page_then_back(page, login):
    user = login("Staff")
    page.goto("/?q=abc")
    page.context.clear_cookies()  # the session ended (idle time, or logged out in another tab)
    page.get_by_label("Search customers").fill("张伟")  # search as you type: an htmx request
    page.wait_for_url("**/accounts/login/**")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.locator("#results").count() == 0  # a page of its own, not swapped into the results
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/?q=abc")  # back on the page it was on
    assert page.get_by_label("Search customers").input_value() == "abc"
