"""Every URL pattern, every method it takes, as anonymous, Staff, Manager and Admin."""

import importlib
import pkgutil

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests.access as access_pkg
from tests.access.routes import ROLES, Route
from tests.access.world import build_world
from tests.factories import UserFactory


def _all_routes() -> list[Route]:
    routes = []
    for module in pkgutil.iter_modules(access_pkg.__path__):
        if module.name.endswith("_routes"):
            routes += importlib.import_module(f"tests.access.{module.name}").ROUTES
    return routes


ROUTES = _all_routes()


def _named_patterns(resolver=None, namespace="") -> list[tuple[str, object]]:
    """Every named URL pattern as (name, view callback), skipping the Django admin."""
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in ("admin", "api"):
                continue  # the API answers machines, not pages: tests/api/test_api_walk.py walks it
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _named_patterns(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append((f"{namespace}{pattern.name}", pattern.callback))
    return found


def test_every_url_pattern_is_in_the_access_matrix():
    listed = {route.name for route in ROUTES}
    missing = sorted(name for name, _ in _named_patterns() if name not in listed)
    assert not missing, f"URL patterns without an access rule in tests/access/*_routes.py: {missing}"


def test_every_view_declares_its_permission():
    undeclared = sorted(name for name, callback in _named_patterns() if not hasattr(callback, "required_permissions"))
    assert not undeclared, f"views without @require/@logged_in/@public (crm/permissions.py): {undeclared}"


def test_matrix_lists_no_url_that_does_not_exist():
    known = {name for name, _ in _named_patterns()}
    assert not sorted({r.name for r in ROUTES} - known)


@pytest.fixture
def world(staff_user, manager_user, admin_user):
    return build_world(staff_user, manager_user, admin_user)


def _call(client: Client, route: Route, world):
    url = reverse(route.name, kwargs=route.kwargs(world))
    if route.query:
        url = f"{url}?{route.query}"
    if route.method == "POST":
        return client.post(url, route.data(world))
    return client.get(url)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.name}")
def test_anonymous_visitors_are_sent_to_log_in(route, world):
    response = _call(Client(), route, world)
    if route.public:
        assert response.status_code in route.ok
    else:
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.name}")
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_matrix_says(route, role, world):
    user = getattr(world, f"{role}_user")
    client = Client()
    client.force_login(user)
    response = _call(client, route, world)
    if role in route.allowed:
        assert response.status_code in route.ok, (role, route.name, response.status_code)
    else:
        assert response.status_code == route.denied, (role, route.name, response.status_code)


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.public], ids=lambda r: f"{r.method} {r.name}")
def test_a_user_without_a_role_is_refused_everything_but_their_own_account(route, world):
    client = Client()
    client.force_login(UserFactory(username="no_role"))
    response = _call(client, route, world)
    if route.name in {"logout", "password_change", "password_change_done"}:
        assert response.status_code in route.ok
    else:
        assert response.status_code == route.denied, (route.name, response.status_code)
