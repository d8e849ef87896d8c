"""Search and bulk feedback in a real browser: the hidden statuses' matches arrive after the results,
the matches are marked, and the selection's count follows the ticks and stays on screen."""

import os

import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 768}}

IN_VIEW = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0;
}"""


def _shot(page, name: str) -> None:
    if os.environ.get("CRM_SCREENSHOTS"):  # to look at the pages: CRM_SCREENSHOTS=/tmp/shots
        page.screenshot(path=f"{os.environ['CRM_SCREENSHOTS']}/{name}.png")


@pytest.mark.parametrize("size", SIZES)
def test_the_hint_the_marks_and_the_selection_count_on_the_search_page(browser, live_server, size):
    for n in range(30):
        CustomerFactory(customer_no=f"S{n:03d}", name=f"张伟{n}")
    CustomerFactory(customer_no="S900", name="张伟", status="closed")
    CustomerFactory(customer_no="S901", name="张伟华", status="closed")
    context = browser.new_context(locale="en-US", base_url=live_server.url, viewport=SIZES[size])
    page = context.new_page()
    try:
        _log_in(page)
        page.goto("/?q=张伟")
        hint = page.locator("[data-also-match]")
        hint.wait_for()
        assert hint.inner_text().startswith("2 closed cards also match this search.")
        assert page.locator("table.results mark").first.inner_text() == "张伟"
        boxes = page.locator('input[name="ids"]')
        boxes.nth(0).check()
        boxes.nth(1).check()
        counter = page.locator("[data-selection-count]")
        assert counter.inner_text() == "Selected: 2"
        page.evaluate("window.scrollTo(0, 0)")
        assert page.evaluate(IN_VIEW, ".bulk-actions"), "the count and the bulk buttons stay on screen"
        _shot(page, f"search-{size}")
        page.locator("#select-all").check()
        assert counter.inner_text() == "Selected: 25"
        hint.get_by_role("link", name="Show them").click()
        page.wait_for_load_state()
        assert "S900" in page.content() and "status=closed" in page.url
        page.goto("/?q=张伟")
        page.locator('input[name="ids"]').nth(0).check()
        assert page.locator("[data-selection-count]").inner_text() == "Selected: 1"
        page.get_by_role("button", name="Bulk action on selected cards").click()
        page.wait_for_load_state()
        bar = page.locator("[data-selection-bar]")
        assert bar.inner_text().startswith("1 customer selected.")
        _shot(page, f"bulk-{size}")
    finally:
        context.close()


def _log_in(page) -> None:
    from tests.factories import TEST_PASSWORD, UserFactory

    UserFactory(username="browser_manager", role="Manager")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("browser_manager")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # the login's answer, not a race with the next goto


@pytest.mark.parametrize("size", SIZES)
def test_a_bulk_run_with_skipped_cards_warns_and_offers_to_retry_them(browser, live_server, size):
    ok = CustomerFactory(customer_no="R001")
    archived = CustomerFactory(customer_no="R002", status="archived")
    closed = CustomerFactory(customer_no="R003", status="closed")
    context = browser.new_context(locale="en-US", base_url=live_server.url, viewport=SIZES[size])
    page = context.new_page()
    try:
        _log_in(page)
        page.goto(f"/closures/bulk/?ids={ok.pk},{archived.pk},{closed.pk}")
        page.get_by_label("Reason").select_option(index=1)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()
        assert page.locator("[data-selection-bar]").inner_text().startswith("3 customers selected.")
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        assert page.locator(".message.warning").inner_text() == "1 card done, 2 skipped."
        assert page.locator("[data-result]").get_attribute("data-result") == "some-skipped"
        assert page.locator(".skip-group").count() == 1  # both not active
        _shot(page, f"bulk-result-{size}")
        page.get_by_role("button", name="Retry the 2 skipped cards").click()
        page.wait_for_load_state()
        assert page.locator("[data-selection-bar]").inner_text().startswith("2 customers selected.")
    finally:
        context.close()
