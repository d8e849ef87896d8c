"""Idempotency-Key: a write sent twice happens once; a key reused for another body is refused."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from api import tokens
from api.models import IdempotencyKey
from customers import gate
from customers.models import Customer
from tests.api.conftest import client_for
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


@pytest.fixture
def staff_api(token_client, staff_user):
    return token_client(staff_user, "Staff")


def post(api, body, key):
    return api.post(CUSTOMERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_the_same_key_and_body_replays_the_first_answer_and_creates_one_card(staff_api):
    first = post(staff_api, {"name": "陈静"}, "create-1")
    again = post(staff_api, {"name": "陈静"}, "create-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1
    row = IdempotencyKey.objects.get()
    assert (row.key, row.method, row.path, row.status) == ("create-1", "POST", CUSTOMERS, 201)


def test_the_body_is_compared_as_json_not_as_bytes(staff_api):
    post(staff_api, {"name": "陈静", "city": "上海"}, "k")
    again = staff_api.post(
        CUSTOMERS, '{ "city": "上海",  "name": "陈静" }', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Customer.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_with_422(staff_api):
    post(staff_api, {"name": "陈静"}, "create-1")
    response = post(staff_api, {"name": "陈静静"}, "create-1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Customer.objects.count() == 1


def test_the_same_key_on_another_path_is_refused_too(staff_api):
    CustomerFactory(customer_no="C000001")
    post(staff_api, {"name": "陈静"}, "k")
    response = staff_api.patch(f"{CUSTOMERS}C000001/", {"name": "陈静"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422


def test_a_refusal_is_replayed_as_well(staff_api):
    first = post(staff_api, {"name": ""}, "bad")
    again = post(staff_api, {"name": ""}, "bad")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"


def test_keys_belong_to_their_user(token_client, staff_user, manager_user):
    first = post(token_client(staff_user, "Staff"), {"name": "陈静"}, "shared-key")
    other = post(token_client(manager_user, "Manager"), {"name": "陈静"}, "shared-key")
    assert first.status_code == 201, first.content
    assert other.status_code == 201, other.content
    assert "Idempotent-Replayed" not in other
    assert Customer.objects.count() == 2


def test_a_key_older_than_24_hours_starts_afresh(staff_api):
    post(staff_api, {"name": "陈静"}, "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    again = post(staff_api, {"name": "陈静"}, "old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Customer.objects.count() == 2


def test_a_patch_is_idempotent(staff_api):
    CustomerFactory(customer_no="C000001", city="上海")
    url = f"{CUSTOMERS}C000001/"
    first = staff_api.patch(url, {"city": "杭州"}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    Customer.objects.filter(customer_no="C000001").update(city="南京")
    again = staff_api.patch(url, {"city": "杭州"}, format="json", HTTP_IDEMPOTENCY_KEY="p")
    assert again.json() == first.json()
    assert Customer.objects.get(customer_no="C000001").city == "南京"  # not written a second time


def test_an_overlong_key_is_refused(staff_api):
    response = post(staff_api, {"name": "陈静"}, "k" * 256)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert not Customer.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_run_the_write_once(token_client, staff_user, admin_user, monkeypatch):
    """The second request waits on the first one's key row, then replays its answer."""
    api_a = token_client(staff_user, "Staff")
    _token, secret = tokens.create_token(name="Second shop", owner=staff_user, role="Staff", by=admin_user)
    api_b = client_for(secret)  # another token of the same owner: the same keys
    real_create = gate.create_card
    started = threading.Event()

    def slow_create(*args, **kwargs):
        started.set()
        time.sleep(0.5)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(gate, "create_card", slow_create)
    answers = {}

    def call(name, api):
        try:
            answers[name] = post(api, {"name": "陈静"}, "race")
        finally:
            connection.close()

    first = threading.Thread(target=call, args=("a", api_a))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=call, args=("b", api_b))
    second.start()
    first.join(10)
    second.join(10)
    assert answers["a"].status_code == answers["b"].status_code == 201
    assert answers["a"].json() == answers["b"].json()
    assert Customer.objects.count() == 1
