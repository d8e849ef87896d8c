"""The walk: every endpoint and method of the OpenAPI schema, called with every role's token.

What a role may do is what its permissions allow (crm.roles, the view's ``required_permissions`` and
``method_permissions``): those calls answer 2xx, or 4xx in the API's error shape (a minimal body is
usually refused as not valid), never 403 for the role (only an object's own rule: withdrawing someone
else's request) and never 500; the rest answer 403. Without credentials,
every call is 401. The schema and the docs page are walked too.
"""

import re

import jsonschema
import pytest
from django.urls import URLPattern, URLResolver, resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from api import urls as api_urls
from api.tokens import create_token
from closures import operations
from closures.models import ClosureReason, ClosureSettings
from closures.rules import ClosureChoice
from crm.roles import ROLE_PERMISSIONS
from tests.api.conftest import client_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
CALLS = [(path, method) for path, item in SCHEMA["paths"].items() for method in METHODS if method in item]


def _json_schema(node):
    """OpenAPI 3.0's schema objects as JSON Schema: ``nullable`` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node and "enum" not in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


COMPONENTS = _json_schema(dict(SCHEMA["components"]))


def assert_matches_schema(template: str, method: str, response) -> None:
    """A 2xx answer has the shape the schema promises for its status (tests/api: the schema does not drift)."""
    documented = SCHEMA["paths"][template][method]["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {template} answered {response.status_code}, not in the schema"
    content = documented.get("content", {})
    media = next((m for m in content if "json" in m), None)
    if media is None:
        return
    schema = {"components": COMPONENTS, **_json_schema(content[media]["schema"])}
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(response.json()))
    assert not errors, f"{method} {template}: {errors[0].message} at {list(errors[0].absolute_path)}"


def needed(view_class, method: str) -> set[str]:
    declared = set(view_class.required_permissions)
    return declared | set((getattr(view_class, "method_permissions", None) or {}).get(method.upper(), ()))


@pytest.fixture
def world(staff_user, manager_user):
    """A card to read and change, a closed card (its closure), a pending request: every path has a real object."""
    reason = ClosureReason.objects.get(code="customer-request")
    CustomerFactory(customer_no="W000001")
    closed = CustomerFactory(customer_no="W000002")
    closure = operations.close_customer(closed, ClosureChoice("close", reason), by=manager_user)
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    pending = operations.request_closure(
        CustomerFactory(customer_no="W000003"), ClosureChoice("close", reason), by=staff_user
    )
    return {"customer_no": "W000001", "pk": None, "closure": closure.pk, "request": pending.pk}


def url_of(template: str, world: dict) -> str:
    pk = world["request"] if template.startswith("/api/v1/closure-requests/") else world["closure"]
    return template.replace("{customer_no}", world["customer_no"]).replace("{id}", str(pk)).replace("{pk}", str(pk))


def call(client, method: str, url: str):
    if method in ("post", "patch", "put"):
        return getattr(client, method)(url, {}, format="json")
    return getattr(client, method)(url)


def assert_error_shape(response) -> None:
    error = response.json()["error"]
    assert {"code", "message", "message_en", "message_zh", "fields"} <= set(error)


def test_the_schema_lists_the_resources():
    paths = {path for path, _method in CALLS}
    for expected in (
        "/api/v1/customers/",
        "/api/v1/customers/{customer_no}/",
        "/api/v1/customers/{customer_no}/erase/",
        "/api/v1/closures/",
        "/api/v1/closures/{id}/",
        "/api/v1/closures/{id}/reinstate/",
        "/api/v1/closure-requests/",
        "/api/v1/closure-requests/{id}/approve/",
        "/api/v1/closure-requests/{id}/reject/",
        "/api/v1/analytics/closures/",
        "/api/v1/reasons/",
    ):
        assert expected in paths


def _api_views():
    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns)
            elif isinstance(entry, URLPattern):
                yield entry

    for pattern in walk(api_urls.urlpatterns):
        callback = pattern.callback
        yield pattern.name, getattr(callback, "cls", None) or getattr(callback, "view_class", None), callback


def test_every_api_view_declares_its_permissions():
    for name, view_class, callback in _api_views():
        target = view_class or callback
        assert getattr(target, "required_permissions", None) is not None, name


@pytest.mark.parametrize("role", ["Staff", "Manager", "Admin"])
def test_every_endpoint_as_every_roles_token(role, world, staff_user, manager_user, admin_user):
    owner = {"Staff": staff_user, "Manager": manager_user, "Admin": admin_user}[role]
    _token, secret = create_token(name=f"walk {role}", owner=owner, role=role, by=admin_user)
    client = client_for(secret)
    held = set(ROLE_PERMISSIONS[role])
    for template, method in CALLS:
        url = url_of(template, world)
        view_class = resolve(url).func.cls
        response = call(client, method, url)
        where = f"{role} {method.upper()} {url}: {response.status_code} {response.content[:300]!r}"
        assert response.status_code < 500, where
        if needed(view_class, method) <= held:
            # Allowed: never refused for the role; an object's own rule may still refuse (another's request: not_yours).
            assert response.status_code != 403 or response.json()["error"]["code"] == "not_yours", where
            if response.status_code >= 400:
                assert_error_shape(response)
            else:
                assert_matches_schema(template, method, response)
        else:
            assert response.status_code == 403, where
            assert response.json()["error"]["code"] == "permission_denied", where


def test_without_credentials_every_call_is_401(world):
    client = APIClient()
    for template, method in CALLS:
        url = url_of(template, world)
        response = call(client, method, url)
        assert response.status_code == 401, f"{method} {url}: {response.status_code}"
        assert response.json()["error"]["code"] == "not_authenticated"


def test_the_docs_page_sends_anonymous_visitors_to_log_in_and_shows_logged_in_people_the_docs(staff_client):
    anonymous = APIClient().get("/api/v1/docs/")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    page = staff_client.get("/api/v1/docs/")
    assert page.status_code == 200
    assert "swagger" in page.content.decode().lower()


@pytest.mark.parametrize("role", ["Staff", "Manager", "Admin"])
def test_the_schema_is_served_to_every_role(role, staff_user, manager_user, admin_user):
    owner = {"Staff": staff_user, "Manager": manager_user, "Admin": admin_user}[role]
    _token, secret = create_token(name=f"schema {role}", owner=owner, role=role, by=admin_user)
    response = client_for(secret).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert re.search(r"/api/v1/customers/", response.content.decode())
    assert APIClient().get("/api/v1/schema/").status_code == 401


def test_the_browsable_api_shows_every_resource_to_a_logged_in_admin(world, admin_client):
    for template, method in CALLS:
        if method != "get" or template == "/api/v1/schema/":
            continue
        response = admin_client.get(url_of(template, world), HTTP_ACCEPT="text/html")
        assert response.status_code == 200, (template, response.status_code, response.content[:500])
        assert "text/html" in response["Content-Type"]


def test_every_write_accepts_an_idempotency_key():
    writes = [(template, method) for template, method in CALLS if method in ("post", "patch", "put")]
    assert writes
    for template, method in writes:
        view_class = resolve(url_of(template, {"customer_no": "X1", "closure": 1, "request": 1})).func.cls
        assert getattr(getattr(view_class, method), "__wrapped__", None) is not None, f"{method} {template}"
        names = [p["name"] for p in SCHEMA["paths"][template][method].get("parameters", [])]
        assert "Idempotency-Key" in names, f"{method} {template}: not in the schema"
