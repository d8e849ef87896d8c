"""axe finds no accessibility violations on the improvement action pages and the dashboard's panel,
at a desktop's size and a phone's."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from followups.models import Improvement
from tests.browser import test_accessibility
from tests.browser.sample import shop
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

page = test_accessibility.page  # axe-ready (CSP bypassed for the test's script), at both sizes


@pytest.fixture
def actions():
    sample = shop()
    today = timezone.localdate()
    by = UserFactory(username="planner")
    for days, title, categories in (
        (-40, "服务热线 24 小时开通，投诉一小时内回电", ["service"]),
        (-10, "Price match with the two competing chains in every city", ["price", "competitor"]),
        (30, "New loyalty tiers", ["price"]),
    ):
        Improvement.objects.create(
            title=title, started_on=today + timedelta(days=days), categories=categories, created_by=by
        )
    return sample


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
