"""A closure keeps its card's owner *now* (``card_owner``), which data scopes select closures by
(analytics/population.py): a card that changes hands after a reinstatement takes its past
closures with it, whether the form or an import moves it, and a scoped dashboard counts them
under the new owner only."""

import io
from datetime import timedelta

import pytest
from django.core.cache import cache

from analytics import figures
from analytics.filters import ClosureFilter
from closures import operations
from closures.models import Closure
from closures.rules import ClosureChoice
from crm import scopes
from crm.models import DataScope
from customers import gate, imports
from tests.factories import CustomerFactory, UserFactory
from tests.fixtures.customer_files import row, xlsx_bytes

from .steps import reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def reinstated(manager_user):
    """Card IMP0001 of Li, closed and then reinstated by a Manager: its closure is reverted."""
    li = UserFactory(username="li.na", role="Staff")
    card = CustomerFactory(customer_no="IMP0001", owner=li)
    operations.close_customer(card, ClosureChoice("close", reason("moved-away")), by=manager_user)
    operations.reinstate(card, by=manager_user, note="came back")
    return card


def owners(card) -> list[tuple[int | None, int | None]]:
    return list(Closure.objects.filter(customer=card).values_list("owner_id", "card_owner_id"))


def test_a_closure_takes_the_cards_owner_as_it_is_when_closed(reinstated):
    li = reinstated.owner
    assert owners(reinstated) == [(li.pk, li.pk)]


def test_a_card_given_to_another_owner_on_its_form_takes_its_closures_along(reinstated, manager_user):
    li, wang = reinstated.owner, UserFactory(username="wang.fang", role="Staff")

    gate.update_card(reinstated, {"owner": wang}, by=manager_user, source=gate.FORM)

    assert owners(reinstated) == [(li.pk, wang.pk)]  # "owner at closing" stays as history


def test_an_import_that_changes_owners_takes_the_closures_along(reinstated, admin_user):
    wang = UserFactory(username="wang.fang", role="Staff")

    report = imports.import_customers(
        io.BytesIO(xlsx_bytes([row(1, owner="wang.fang")])), "owners.xlsx", user=admin_user, commit=True
    )

    assert report.written and report.updated == 1
    assert owners(reinstated) == [(reinstated.owner_id, wang.pk)]


def test_a_scoped_dashboard_counts_a_reinstatement_under_the_cards_owner_now(reinstated, manager_user):
    li, wang = reinstated.owner, UserFactory(username="wang.fang", role="Staff")
    gate.update_card(reinstated, {"owner": wang}, by=manager_user, source=gate.FORM)
    DataScope.objects.create(role="Staff", scope="own")
    cache.delete(scopes.CACHE_KEY)

    def seen_by(user) -> tuple[int, int, int]:
        fs = ClosureFilter({"reverted": "1"}, user=user)
        people = fs.population(("scope",))
        return figures.compute(fs).reinstated, fs.qs.count(), people.customers_before(fs.today + timedelta(days=1))

    assert seen_by(wang) == (1, 1, 1)
    assert seen_by(li) == (0, 0, 0)
