"""Integration → API tokens: an Admin gives another system a token, sees its calls, and revokes it."""

import pytest
from django.urls import reverse

from api.models import ApiCall, ApiToken
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def _create(client, **fields):
    data = {"name": "Finance settlement", "role": "Manager", "allowed_ips": "", "expires_on": ""} | fields
    return client.post(reverse("integration:token_create"), data)


def test_an_admin_creates_a_token_and_sees_its_secret_once(client, admin_user, manager_user):
    client.force_login(admin_user)
    response = _create(client, owner=manager_user.pk)
    assert response.status_code == 200
    token = ApiToken.objects.get(name="Finance settlement")
    secret = response.context["secret"]
    assert secret.startswith(f"crm_{token.prefix}_") and secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert token.owner == manager_user and token.role == "Manager"
    detail = client.get(reverse("integration:token_detail", args=[token.pk])).content.decode()
    assert secret not in detail and f"crm_{token.prefix}_" in detail
    assert client_for(secret).get("/api/v1/reasons/").status_code == 200


def test_the_form_names_what_is_wrong_next_to_it(client, admin_user, staff_user):
    client.force_login(admin_user)
    response = _create(
        client, owner=staff_user.pk, role="Admin", allowed_ips="10.0.0.0/8\n300.1.1.1", expires_on="2001-01-01"
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "role" in errors and "300.1.1.1" in errors["allowed_ips"][0] and "expires_on" in errors
    assert not ApiToken.objects.exists()


def test_a_name_is_used_once(client, admin_user):
    client.force_login(admin_user)
    _create(client, owner=admin_user.pk)
    response = _create(client, owner=admin_user.pk, name="finance SETTLEMENT")
    assert "name" in response.context["form"].errors
    assert ApiToken.objects.count() == 1


def test_every_call_is_logged_on_the_tokens_page_and_a_revoked_token_stops(client, admin_user, staff_user):
    client.force_login(admin_user)
    response = _create(client, owner=staff_user.pk, role="Staff")
    secret, token = response.context["secret"], ApiToken.objects.get()
    api = client_for(secret)
    assert api.get("/api/v1/reasons/?q=张伟").status_code == 200
    call = ApiCall.objects.get(token=token)
    assert (call.method, call.path, call.status, call.ip) == ("GET", "/api/v1/reasons/", 200, "127.0.0.1")
    assert "/api/v1/reasons/" in client.get(reverse("integration:token_detail", args=[token.pk])).content.decode()
    client.post(reverse("integration:token_revoke", args=[token.pk]))
    assert api.get("/api/v1/reasons/").status_code == 401
    assert ApiCall.objects.count() == 1  # a refused token's call belongs to no token


def test_an_expiry_day_is_the_last_day_it_works(client, admin_user):
    import datetime as dt

    from django.utils import timezone

    client.force_login(admin_user)
    last_day = timezone.localdate() + dt.timedelta(days=3)
    _create(client, owner=admin_user.pk, expires_on=last_day.isoformat())
    expires = timezone.localtime(ApiToken.objects.get().expires_at)
    assert expires.date() == last_day + dt.timedelta(days=1) and expires.time() == dt.time.min


def test_the_rate_limit_answers_429_with_retry_after(settings, staff_user, admin_user):
    from django.core.cache import cache

    from api import tokens

    cache.clear()
    settings.API_RATE_LIMIT = "3/min"
    _token, secret = tokens.create_token(name="Busy", owner=staff_user, role="Staff", by=admin_user)
    api = client_for(secret)
    assert [api.get("/api/v1/reasons/").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/api/v1/reasons/")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    _other, other_secret = tokens.create_token(name="Calm", owner=staff_user, role="Staff", by=admin_user)
    assert client_for(other_secret).get("/api/v1/reasons/").status_code == 200  # counted per token
