"""The cards of some owners by "customer since" (a data scope's churn denominators and cohort sizes):
equal to a recount whatever changed, cached per owner on PostgreSQL until the card epoch token
changes, which a change of owner now makes it do."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers import gate
from customers.models import Customer
from customers.owner_counts import owned_cards
from tests.factories import CustomerFactory, UserFactory

TODAY = timezone.localdate()
DAY = TODAY - dt.timedelta(days=100)
pytestmark = pytest.mark.django_db


@pytest.fixture
def owners():
    """Li owns three cards (customers since 400, 130 and 99 days ago, and one since today), Wang two, nobody one."""
    li, wang = UserFactory(username="li.na", role="Staff"), UserFactory(username="wang.fang", role="Staff")
    for days, owner in ((400, li), (130, li), (99, li), (0, li), (200, wang), (101, wang), (150, None)):
        CustomerFactory(customer_since=TODAY - dt.timedelta(days=days), owner=owner)
    return li, wang


def recount(owners, day) -> int:
    return Customer.objects.filter(owner__in=owners, customer_since__lt=day).count()


def month(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def test_the_counts_are_the_owners_cards_before_each_day_and_by_month(owners):
    li, wang = owners
    both = owned_cards([li.pk, wang.pk])
    for day in (DAY, TODAY, TODAY + dt.timedelta(days=1), TODAY - dt.timedelta(days=300)):
        assert both.before(day) == recount(owners, day)
    assert (both.before(DAY), owned_cards([li.pk]).before(TODAY + dt.timedelta(days=1))) == (4, 4)
    assert sum(both.by_month().values()) == 6 and both.by_month()[month(TODAY)] >= 1
    assert owned_cards([]).before(TODAY) == 0


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda li, wang: Customer.objects.filter(owner=wang).update(owner=li), id="cards given to Li"),
        pytest.param(lambda li, wang: Customer.objects.filter(owner=None).update(owner=li), id="a card without owner"),
        pytest.param(lambda li, wang: Customer.objects.filter(owner=li).update(owner=None), id="Li's cards let go"),
        pytest.param(
            lambda li, wang: gate.update_card(
                Customer.objects.get(owner=wang, customer_since=TODAY - dt.timedelta(days=200)),
                {"owner": li},
                by=li,
                source=gate.FORM,
            ),
            id="through the card's form",
        ),
        pytest.param(lambda li, wang: li.delete(), id="Li's account deleted"),
    ],
)
def test_the_cached_counts_equal_a_recount_after_cards_change_hands(owners, change, admin_user):
    li, wang = owners
    assert owned_cards([li.pk]).before(DAY) == recount([li], DAY) == 2  # now cached
    change(li, wang)
    assert owned_cards([li.pk]).before(DAY) == recount([li.pk], DAY)
    assert owned_cards([wang.pk]).before(DAY) == recount([wang.pk], DAY)


@pytest.mark.postgres
def test_cached_owners_cost_a_token_read_and_the_recent_days(owners):
    li, wang = owners
    with CaptureQueriesContext(connection) as miss:
        first = owned_cards([li.pk, wang.pk]).before(DAY)
    with CaptureQueriesContext(connection) as hit:
        again = owned_cards([li.pk, wang.pk]).before(DAY)
    assert first == again == 4
    assert len(miss) == 3 and len(hit) == 2  # the token, (the settled days,) the recent days
    assert "customers_cardepoch" in hit[0]["sql"] and 'customer_since" >=' in hit[1]["sql"]
