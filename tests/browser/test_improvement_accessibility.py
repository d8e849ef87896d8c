"""axe finds no accessibility violations on the improvement action pages and the dashboard's panel,
at a desktop's size and a phone's."""

import pytest
from django.urls import reverse

from tests.browser import test_accessibility
from tests.browser.sample import shop_with_improvements

pytestmark = pytest.mark.django_db(transaction=True)

page = test_accessibility.page  # axe-ready (CSP bypassed for the test's script), at both sizes


@pytest.fixture
def actions():
    return shop_with_improvements()


@pytest.mark.parametrize(
    "url",
    [
        f"{reverse('analytics:dashboard')}?period=90d",
        reverse("followups:improvement_list"),
        reverse("followups:improvement_add"),
    ],
)
def test_the_pages_have_no_accessibility_violations(page, login, actions, url):
    login("Manager")
    assert page.goto(url).status == 200
    if "analytics" in url:
        page.locator("#improvements").wait_for()  # the panel comes after the page (htmx)
    assert test_accessibility.violations(page) == []
