"""Bad input never answers 500: junk of every JSON kind in every field of every write, and in the lists' parameters."""

import pytest

from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

JUNK = [None, "x" * 5000, -1, 1.5, 10**30, True, ["a", 1], {"a": {"b": 1}}, "２０２６-０１-０１", "\x00"]

WRITES = {
    "/api/v1/customers/": ["name", "customer_no", "phone", "email", "birth_date", "owner", "tags", "segment",
                           "balance", "points", "customer_since", "save_anyway", "language"],
    "/api/v1/customers/J000001/": ["name", "phone", "email", "owner", "tags", "updated_at", "balance", "customer_no"],
    "/api/v1/closures/": ["customer", "action", "reason", "notes", "duplicate_of", "merge", "balance_seen",
                          "points_seen", "settlement", "refund_amount", "settle_to", "open_tickets", "updated_at"],
    "/api/v1/customers/J000002/erase/": ["reason", "confirmation", "notes", "balance_seen", "settlement"],
}  # fmt: skip
VALID = {
    "/api/v1/customers/": {"name": "陈静"},
    "/api/v1/customers/J000001/": {},
    "/api/v1/closures/": {"customer": "J000001", "action": "close", "reason": "customer-request"},
    "/api/v1/customers/J000002/erase/": {"reason": "erasure-request", "confirmation": "J000002"},
}


@pytest.fixture
def admin_api(token_client, admin_user):
    CustomerFactory(customer_no="J000001")
    CustomerFactory(customer_no="J000002")
    return token_client(admin_user, "Admin")


@pytest.mark.parametrize("url", list(WRITES))
def test_junk_in_any_field_of_a_write_is_refused_never_a_500(admin_api, url):
    method = admin_api.patch if url == "/api/v1/customers/J000001/" else admin_api.post
    for field in WRITES[url]:
        for value in JUNK:
            response = method(url, {**VALID[url], field: value}, format="json")
            assert response.status_code < 500, (url, field, value, response.content[:300])
            if response.status_code >= 400:
                assert "error" in response.json(), (url, field, value)


@pytest.mark.parametrize(
    "url, params",
    [
        ("/api/v1/customers/", ["q", "status", "segment", "owner", "tag", "batch", "total_min", "interaction_after",
                                "cursor", "limit", "o"]),
        ("/api/v1/closures/", ["period", "start", "end", "reason", "by", "owner", "tag", "tenure", "cursor", "limit",
                               "o", "own", "svc", "svc_from", "svc_to", "svc_team", "svc_sla"]),
        ("/api/v1/analytics/closures/", ["period", "start", "end", "compare", "reason", "batch", "tenure"]),
        ("/api/v1/closure-requests/", ["state", "cursor", "limit"]),
    ],
)  # fmt: skip
def test_junk_in_a_lists_parameters_is_refused_never_a_500(admin_api, admin_user, url, params):
    reason = ClosureReason.objects.get(code="customer-request")
    operations.close_customer(CustomerFactory(), ClosureChoice("close", reason), by=admin_user)
    for name in params:
        for value in ["x", "-1", "99999999999999999999", "2026-13-45", "１２", "a" * 3000]:
            response = admin_api.get(url, {name: value})
            assert response.status_code < 500, (url, name, value, response.content[:300])


def test_a_nul_character_in_a_path_query_or_body_is_refused_by_name(admin_api):
    for response in (
        admin_api.get("/api/v1/customers/J%00001/"),
        admin_api.get("/api/v1/customers/", {"q": "张\x00"}),
        admin_api.post("/api/v1/customers/", {"name": "陈\x00静"}, format="json"),
    ):
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "null_character"
