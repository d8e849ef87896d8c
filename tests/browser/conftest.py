"""Browser tests: Playwright for Python driving Debian's chromium against pytest-django's live server.

They skip, saying why, where /usr/bin/chromium is absent; CI sets CRM_REQUIRE_BROWSER=1 and
installs chromium, so there a missing browser fails instead of skipping.
Never `playwright install`: it downloads a browser build, which this network refuses.
"""

import os
import shutil

import pytest
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

# Playwright's sync API keeps an event loop in this thread; the ORM calls made by fixtures are
# still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def default_reasons(transactional_db):
    """Browser tests need committed data (the live server reads it), so they are transactional,
    and a flush before them removes what migrations seeded: put the default reasons and categories back."""
    import importlib

    from django.apps import apps

    importlib.import_module("closures.migrations.0002_default_reasons").seed(apps, None)
    importlib.import_module("closures.migrations.0010_default_categories").forward(apps, None)
    importlib.import_module("service.migrations.0002_defaults").forward(apps, None)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CRM_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


PHONE = {"width": 390, "height": 844}
# The elements that stick out past the right edge of the screen, to say what overflows.
WIDER_THAN_THE_SCREEN = """() => {
  const width = window.innerWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 0.5 && box.width > 0 && !el.closest('.table-wrap')) {
      out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(box.right)}`);
    }
  }
  return out.slice(0, 8);
}"""


def open_action(page, customer, label):
    """Open the card's Actions menu and follow one of its links (Close card, Reinstate, Delete...)."""
    page.goto(reverse("customers:card", args=[customer.pk]))
    page.get_by_text("Actions", exact=True).click()
    page.get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="en-US", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A page the size of a phone (390 × 844, touch), for the layout tests."""
    context = browser.new_context(
        locale="en-US", base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page):
    """login("Staff") creates a user in that role and logs in through the real form."""

    def do_login(role: str, username: str | None = None):
        username = username or f"browser_{role.lower()}"
        user = UserFactory(username=username, role=role)
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        # Until the login's answer has come, a next page.goto would cancel it (seen under load).
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return user

    return do_login
