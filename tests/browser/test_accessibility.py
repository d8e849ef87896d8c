"""axe-core (vendored, tests/browser/vendor/README.md) finds no accessibility violations on the key
pages, at a desktop's size and a phone's, in English and in Chinese."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.sample import shop

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def page(request, browser, live_server):
    """A page at each size; CSP bypassed so that the test may inject axe (the application's own
    pages run under their Content-Security-Policy as always)."""
    phone = request.param == "phone"
    context = browser.new_context(
        locale="en-US", base_url=live_server.url, viewport=SIZES[request.param], is_mobile=phone, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sample():
    return shop()


def violations(page) -> list[str]:
    """What axe finds wrong with the page as shown, one line per rule and element."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}"
        for v in result["violations"]
        for node in v["nodes"]
    ]


def key_pages(sample) -> dict[str, str]:
    card = sample["zhang"].pk
    return {
        "search": "/?o=customer_no",
        "card": reverse("customers:card", args=[card]),
        "closure start": reverse("closures:start", args=[card, "close"]),
        "contact preferences": reverse("customers:consent", args=[card]),
        "dashboard": f"{reverse('analytics:dashboard')}?period=all",
        "closure list": f"{reverse('analytics:closure_list')}?period=all",
    }


def test_the_login_page_has_no_violations(page):
    page.goto(reverse("login"))
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert violations(page) == []


@pytest.mark.parametrize(
    "name", ["search", "card", "closure start", "contact preferences", "dashboard", "closure list"]
)
def test_a_key_page_has_no_violations(page, login, sample, name):
    login("Manager")
    response = page.goto(key_pages(sample)[name])
    assert response.status == 200
    assert violations(page) == []


def test_the_dashboard_with_its_filters_open_has_no_violations(page, login, sample):
    login("Manager")
    page.goto(f"{reverse('analytics:dashboard')}?period=all&segment=regular")
    toggle = page.locator(".filter-toggle")
    if toggle.is_visible():
        toggle.click()
    expect(page.get_by_role("form", name="Filters")).to_be_visible()
    assert violations(page) == []


@pytest.mark.parametrize("name", ["search", "dashboard"])
def test_a_key_page_in_chinese_has_no_violations(page, login, sample, name):
    login("Manager")
    page.get_by_label("Language").select_option("zh-hans")
    with page.expect_navigation():
        page.get_by_role("button", name="Switch").click()
    page.goto(key_pages(sample)[name])
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert violations(page) == []


def test_axe_does_find_a_violation_when_there_is_one(page):
    """The check above can fail: a field without a label is reported."""
    page.goto(reverse("login"))
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')")
    assert any(line.startswith("label (critical)") for line in violations(page))
