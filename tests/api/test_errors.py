"""Every error of the API in one shape, with a machine code and the message in both languages."""

import pytest
from rest_framework import exceptions
from rest_framework.test import APIClient

from api import errors
from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "message_en", "message_zh", "fields"}
    return error


@pytest.fixture
def staff_api(token_client, staff_user):
    return token_client(staff_user, "Staff")


def test_without_credentials_the_answer_is_401_in_the_shape_with_the_scheme_named():
    response = APIClient().get(CUSTOMERS)
    error = error_of(response, 401)
    assert error["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_role_without_the_permission_gets_403_in_the_shape(staff_api):
    error = error_of(staff_api.get("/api/v1/analytics/closures/"), 403)
    assert error["code"] == "permission_denied" and error["fields"] == {}


def test_an_unknown_path_under_the_api_is_a_404_in_the_shape_not_the_html_page(staff_api):
    assert error_of(staff_api.get("/api/v1/nothing-here/"), 404)["code"] == "not_found"
    assert error_of(staff_api.post("/api/v1/nothing-here/", {}, format="json"), 404)["code"] == "not_found"


def test_a_method_the_resource_does_not_have_is_405(staff_api):
    error = error_of(staff_api.delete(f"{CUSTOMERS}"), 405)
    assert error["code"] == "method_not_allowed" and "DELETE" in error["message"]


def test_a_body_that_is_not_json_is_415_and_broken_json_is_a_parse_error(staff_api):
    error = error_of(staff_api.post(CUSTOMERS, "name=x", content_type="text/plain"), 415)
    assert error["code"] == "unsupported_media_type"
    error = error_of(staff_api.post(CUSTOMERS, '{"name": ', content_type="application/json"), 400)
    assert error["code"] == "parse_error"


@pytest.mark.parametrize("body", ['"just a string"', "[1, 2]", "null", "42"])
def test_a_body_of_the_wrong_kind_is_a_400_never_a_500(staff_api, body):
    for url in (CUSTOMERS, "/api/v1/closures/"):
        response = staff_api.post(url, body, content_type="application/json")
        assert response.status_code == 400, (url, body, response.content)
        error_of(response, 400)


def test_field_errors_carry_both_languages_whatever_the_request_language(staff_api):
    response = staff_api.post(CUSTOMERS, {"name": " "}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    error = error_of(response, 400)
    name = error["fields"]["name"][0]
    assert name["message_en"] == "Enter the customer's name."
    assert name["message_zh"] == "请输入客户姓名。"
    assert name["message"] == name["message_zh"]  # the request asked for Chinese


def test_a_built_in_field_message_is_translated_too(staff_api):
    error = error_of(staff_api.post(CUSTOMERS, {"name": "陈静", "birth_date": "soon"}, format="json"), 400)
    birth = error["fields"]["birth_date"][0]
    assert (birth["code"], birth["message_en"], birth["message_zh"]) == (
        "invalid",
        "Enter a valid date.",
        "请输入有效的日期。",
    )


def test_an_operations_refusal_is_worded_in_both_languages_and_changes_nothing(staff_api, manager_user):
    card = CustomerFactory(customer_no="E000001")
    reason = ClosureReason.objects.get(code="customer-request")
    operations.close_customer(card, ClosureChoice("close", reason), by=manager_user)
    body = {"customer": "E000001", "action": "close", "reason": "customer-request"}
    error = error_of(staff_api.post("/api/v1/closures/", body, format="json"), 409)
    assert error["code"] == "already"
    assert error["message_en"].startswith("This card was already closed by Wang Fang at ")
    assert error["message_zh"].startswith("此卡已由 Wang Fang 于 ")
    assert error["message"] == error["message_en"]


def test_a_refusal_by_the_gate_is_re_worded_without_writing_anything(staff_api):
    CustomerFactory(customer_no="E000002")
    etag = '"2000-01-01T00:00:00+00:00"'
    response = staff_api.patch(f"{CUSTOMERS}E000002/", {"city": "杭州"}, format="json", HTTP_IF_MATCH=etag)
    error = error_of(response, 409)
    assert error["code"] == "stale"
    assert error["message_en"].startswith("Someone else changed this card after you opened it.")
    assert error["message_zh"] != error["message_en"]
    from customers.models import Customer

    assert Customer.objects.get(customer_no="E000002").city == "上海"


def test_a_refused_token_says_why_in_both_languages(staff_user, admin_user):
    from api import tokens
    from tests.api.conftest import client_for

    token, secret = tokens.create_token(name="Shop", owner=staff_user, role="Staff", by=admin_user)
    tokens.revoke(token, by=admin_user)
    error = error_of(client_for(secret).get(CUSTOMERS), 401)
    assert error["code"] == "authentication_failed"
    assert error["message_en"] == "This API token was revoked."


def test_too_many_requests_is_429_with_retry_after():
    response = errors.handler(exceptions.Throttled(wait=11.2), {})
    assert response.status_code == 429
    assert response["Retry-After"] == "12"
    assert response.data["error"]["code"] == "throttled"
    assert "12" in response.data["error"]["message_en"]


def test_an_unexpected_exception_is_left_to_be_a_500_not_hidden():
    assert errors.handler(RuntimeError("bug"), {}) is None
