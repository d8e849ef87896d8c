"""The data-scope walk: a Staff user scoped to their own cards, every card of the URL walk's world
owned by someone else. Every URL that takes an id of a card, or of a row of a card (a ticket, a
follow-up, a closure request...), answers 404, never the page, never 403 (which would reveal that
the card exists); the pages that take no id still answer, without the card on them."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from crm.models import DataScope
from customers.models import Customer
from insights.models import Score
from tests.access.routes import Route
from tests.access.world import build_world

from .test_url_access import ROUTES, _call

# Routes of Staff that take an id of something that is not a card's: saved views (the user's own),
# jobs (the user's own), survey and unsubscribe links (a token of the customer's own), a password
# reset link, an import's marked file and template.
NOT_A_CARDS = {
    "customers:saved_view_open",
    "customers:saved_view_edit",
    "customers:saved_view_delete",
    "jobs:status",
    "jobs:download",
    "jobs:retry",
    "followups:survey",
    "followups:unsubscribe",
    "password_reset_confirm",
    "customers:import_marked",
    "closures:import_marked",
    "service:import_marked",
    "customers:import_template",
    "closures:import_template",
    "service:import_template",
}


def _scored(card) -> None:
    """A high churn risk on the card, so the lists of customers at risk would show it."""
    Score.objects.update_or_create(
        customer=card,
        defaults={"computed_at": timezone.now(), "as_of": timezone.localdate(), "risk": 90, "segment": "at_risk"},
    )


def _takes_an_id(route: Route, world) -> bool:
    return bool(route.kwargs(world)) and route.name not in NOT_A_CARDS


STAFF_ROUTES = [r for r in ROUTES if "staff" in r.allowed]
# ... and the Managers' settings pages of things that are not a card's (filled from the walk below).
MANAGER_NOT_A_CARDS = {"followups:improvement_edit", "followups:improvement_delete"}


def _scoped_world(role: str, owner: str, staff_user, manager_user, admin_user):
    """The walk's world where ``role`` sees only its own cards and every card belongs to ``owner``."""
    world = build_world(staff_user, manager_user, admin_user)
    DataScope.objects.create(role=role, scope=DataScope.Scope.OWN)
    _scored(world.customer)
    cache.clear()
    Customer.objects.update(owner=getattr(world, owner))
    return world


@pytest.fixture
def scoped_world(staff_user, manager_user, admin_user):
    """Staff sees only their own cards; every card of the world belongs to the Manager."""
    return _scoped_world("Staff", "manager_user", staff_user, manager_user, admin_user)


def _id(route: Route) -> str:
    return f"{route.method} {route.name}?{route.query}"


def _walk(route: Route, world, user, not_cards=frozenset()) -> None:
    """``route`` as ``user``, who sees none of ``world``'s cards: 404 where it takes the id of a card
    (or of a row of one), else the page without the card."""
    client = Client()
    client.force_login(user)
    response = _call(client, route, world)
    if _takes_an_id(route, world) and route.name not in not_cards:
        assert response.status_code == 404, f"{_id(route)} answered {response.status_code}"
        return
    assert response.status_code in route.ok + (400, 404), f"{_id(route)} answered {response.status_code}"
    if response.status_code == 200 and not response.streaming and "html" in response.get("Content-Type", ""):
        page = response.content.decode()
        for number in Customer.objects.values_list("customer_no", flat=True):  # every card of the world's apps
            assert not re.search(rf"\b{re.escape(number)}\b", page), f"{_id(route)} shows {number}"
        assert world.customer.name not in page, f"{_id(route)} shows {world.customer.name}"


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=_id)
def test_a_staff_user_outside_the_cards_scope_finds_nothing(route, scoped_world):
    _walk(route, scoped_world, scoped_world.staff_user)


MANAGER_ROUTES = [r for r in ROUTES if "manager" in r.allowed]


@pytest.fixture
def scoped_manager_world(staff_user, manager_user, admin_user):
    """Managers see only their own cards; every card of the world belongs to the Staff user."""
    return _scoped_world("Manager", "staff_user", staff_user, manager_user, admin_user)


@pytest.mark.parametrize("route", MANAGER_ROUTES, ids=_id)
def test_a_manager_outside_the_cards_scope_finds_nothing(route, scoped_manager_world):
    """The same walk for a Manager: the dashboards, the closure list, the queues and the audit log
    included (their pages leave the card out; their exports are checked in test_scopes_managers.py)."""
    _walk(route, scoped_manager_world, scoped_manager_world.manager_user, MANAGER_NOT_A_CARDS)
