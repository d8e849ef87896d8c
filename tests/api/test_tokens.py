"""API tokens: another system logs in with one, and it may do exactly what a user of its role may."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from api import tokens
from api.models import ApiToken
from crm.models import AuditEntry
from tests.api.conftest import client_for
from tests.factories import ClosureReasonFactory

pytestmark = pytest.mark.django_db

REASONS = "/api/v1/reasons/"


def test_the_secret_is_given_once_and_only_its_hash_is_kept(admin_user):
    token, secret = tokens.create_token(name="Finance", owner=admin_user, role="Manager", by=admin_user)
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith(f"crm_{stored.prefix}_")
    assert secret not in {stored.secret_hash, stored.prefix, stored.name}
    assert len(secret) > 40
    entry = AuditEntry.objects.get(action="api.token_create")
    assert entry.actor == admin_user and entry.data["role"] == "Manager"
    assert secret not in str(entry.data)


def test_a_token_reads_the_reasons(staff_user, admin_user):
    ClosureReasonFactory(code="moved_away", label_en="Moved away", label_zh="搬迁")
    _token, secret = tokens.create_token(name="Shop", owner=staff_user, role="Staff", by=admin_user)
    response = client_for(secret).get(REASONS)
    assert response.status_code == 200
    assert "moved_away" in [reason["code"] for reason in response.json()]


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda t: tokens.revoke(t, by=t.created_by), "revoked"),
        (
            lambda t: ApiToken.objects.filter(pk=t.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1)),
            "expired",
        ),
        (lambda t: ApiToken.objects.filter(pk=t.pk).update(allowed_ips="203.0.113.0/24"), "address"),
        (lambda t: type(t.owner).objects.filter(pk=t.owner_id).update(is_active=False), "deactivated"),
    ],
    ids=["revoked", "expired", "other address", "owner deactivated"],
)
def test_a_token_that_may_not_be_used_is_refused_with_its_reason(spoil, message, staff_user, admin_user):
    token, secret = tokens.create_token(name="Shop", owner=staff_user, role="Staff", by=admin_user)
    assert client_for(secret).get(REASONS).status_code == 200
    spoil(token)
    response = client_for(secret).get(REASONS)
    assert response.status_code == 401
    error = response.json()["error"]  # the API's error shape (api.errors)
    assert error["code"] == "authentication_failed"
    assert message in error["message"] and message in error["message_en"]


def test_an_allowed_range_lets_its_addresses_in(staff_user, admin_user):
    _token, secret = tokens.create_token(
        name="Shop", owner=staff_user, role="Staff", by=admin_user, allowed_ips="203.0.113.0/24\n2001:db8::/32"
    )
    assert client_for(secret, ip="203.0.113.9").get(REASONS).status_code == 200
    assert client_for(secret, ip="2001:db8::5").get(REASONS).status_code == 200
    assert client_for(secret, ip="198.51.100.1").get(REASONS).status_code == 401


def test_a_wrong_or_malformed_token_is_refused(staff_user, admin_user):
    _token, secret = tokens.create_token(name="Shop", owner=staff_user, role="Staff", by=admin_user)
    assert client_for(secret[:-1] + ("A" if secret[-1] != "A" else "B")).get(REASONS).status_code == 401
    assert client_for("not-a-token").get(REASONS).status_code == 401
    assert client_for("").get(REASONS).status_code in (401, 403)


def test_without_a_token_or_login_the_api_answers_401():
    assert client_for("").get(REASONS).status_code in (401, 403)
    from rest_framework.test import APIClient

    assert APIClient().get(REASONS).status_code == 401


def test_a_token_holds_its_role_not_its_owners(admin_user):
    token, _secret = tokens.create_token(name="Shop", owner=admin_user, role="Staff", by=admin_user)
    user = tokens.token_user(token)
    assert user.has_perm("customers.view_customer")
    assert not user.has_perm("closures.erase_customer")
    assert admin_user.has_perm("closures.erase_customer")  # the owner's own object is untouched


def test_a_token_cannot_hold_more_than_its_owner(staff_user, admin_user):
    with pytest.raises(ValidationError) as refused:
        tokens.create_token(name="Shop", owner=staff_user, role="Admin", by=admin_user)
    assert "role" in refused.value.message_dict


def test_an_owner_moved_to_a_lesser_role_takes_the_token_along(manager_user, admin_user):
    from django.contrib.auth.models import Group

    token, _secret = tokens.create_token(name="BI", owner=manager_user, role="Manager", by=admin_user)
    manager_user.groups.set([Group.objects.get(name="Staff")])
    token = ApiToken.objects.select_related("owner").get(pk=token.pk)
    assert not tokens.token_user(token).has_perm("closures.view_analytics")


def test_bad_ip_ranges_are_named(staff_user, admin_user):
    with pytest.raises(ValidationError) as refused:
        tokens.create_token(name="Shop", owner=staff_user, role="Staff", by=admin_user, allowed_ips="10.0.0.0/8\nnope")
    assert "nope" in refused.value.messages[0]


def test_a_change_made_through_the_api_names_the_token_in_the_audit_trail(staff_user, admin_user):
    from crm import audit

    token, _secret = tokens.create_token(name="Shop", owner=staff_user, role="Staff", by=admin_user)
    entry = audit.record("customer.update", actor=tokens.token_user(token), summary="x")
    assert entry.actor == staff_user and entry.data["api_token"] == "Shop"
