"""Logging in through the real form: lockout, audit trail, password rules, other sessions.

The personas' clients use force_login, which skips authenticate(); these tests post the
login form itself, because that is where django-axes and the audit receivers act.
"""

import pytest
from django.contrib.auth import SESSION_KEY, password_validation
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from crm.models import AuditEntry
from tests.factories import TEST_PASSWORD, UserFactory

LOGIN = "/accounts/login/"
WRONG = "not-the-password-0"


def _post_login(client: Client, username: str, password: str, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_the_login_url_is_djangos_login_view():
    assert reverse("login") == LOGIN


def test_a_correct_password_logs_in_and_is_audited(staff_user):
    client = Client()
    response = _post_login(client, staff_user.username, TEST_PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(staff_user.pk)
    [entry] = _audit("auth.login")
    assert entry.actor == staff_user
    assert entry.object_id == str(staff_user.pk)
    assert entry.ip == "203.0.113.7"


def test_a_wrong_password_is_refused_and_audited_without_the_password(staff_user):
    client = Client()
    response = _post_login(client, staff_user.username, WRONG, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    [entry] = _audit("auth.login_failed")
    assert entry.actor is None
    assert entry.summary == staff_user.username
    assert entry.ip == "203.0.113.7"
    stored = " ".join(str(v) for v in (entry.summary, entry.changes, entry.notes, entry.reason))
    assert WRONG not in stored
    assert not _audit("auth.login")


def test_a_failed_login_for_an_unknown_name_is_audited_under_the_name_typed(db):
    _post_login(Client(), "<script>nobody</script>", WRONG)
    [entry] = _audit("auth.login_failed")
    assert entry.summary == "<script>nobody</script>"


def test_repeated_failures_lock_the_account_out_even_with_the_right_password(staff_user, settings):
    limit = settings.AXES_FAILURE_LIMIT
    client = Client()
    for _ in range(limit - 1):
        assert _post_login(client, staff_user.username, WRONG).status_code == 200
    locked = _post_login(client, staff_user.username, WRONG)
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()

    again = _post_login(client, staff_user.username, TEST_PASSWORD)
    assert again.status_code == 429
    assert SESSION_KEY not in client.session
    assert not _audit("auth.login")
    lockouts = _audit("auth.locked_out")
    assert len(lockouts) >= 1
    assert lockouts[0].summary == staff_user.username
    assert len(_audit("auth.login_failed")) >= limit


def test_the_lockout_is_per_account_and_address(staff_user, manager_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(Client(), staff_user.username, WRONG, REMOTE_ADDR="203.0.113.7")
    assert _post_login(Client(), staff_user.username, TEST_PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429
    # Another account from the same address, and the same account from elsewhere, still log in.
    assert _post_login(Client(), manager_user.username, TEST_PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 302
    assert _post_login(Client(), staff_user.username, TEST_PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 302


def test_a_successful_login_resets_the_failure_count(staff_user, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _post_login(client, staff_user.username, WRONG)
    assert _post_login(client, staff_user.username, TEST_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _post_login(client, staff_user.username, WRONG)
    assert _post_login(client, staff_user.username, TEST_PASSWORD).status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(staff_user, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PROXY_HOPS = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        # The proxy appends the real client (203.0.113.7); everything left of it is the client's own.
        _post_login(Client(), staff_user.username, WRONG, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.7")
    forged = _post_login(Client(), staff_user.username, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7")
    assert forged.status_code == 429
    # A genuinely different client behind the same proxy is not locked out.
    other = _post_login(Client(), staff_user.username, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.1, 198.51.100.2")
    assert other.status_code == 302


def test_the_audit_trail_records_the_address_the_proxy_saw_not_a_forged_one(staff_user, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    _post_login(Client(), staff_user.username, WRONG, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7")
    [entry] = _audit("auth.login_failed")
    assert entry.ip == "203.0.113.7"


def test_the_admins_login_is_the_crm_login_page(db):
    response = Client().get("/admin/")
    assert response.status_code == 302
    followed = Client().get(response["Location"])
    assert followed.status_code == 302
    assert followed["Location"].startswith(LOGIN)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1x", "too short"),
        ("password123", "too common"),
        ("83749261530412", "entirely numeric"),
        ("staff_li_2024x", "too similar"),
    ],
)
def test_djangos_password_validators_refuse_weak_passwords(password, message, staff_user):
    with pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password, staff_user)
    assert message in " ".join(refused.value.messages)


def test_changing_the_password_logs_out_every_other_session(staff_user):
    here, elsewhere = Client(), Client()
    here.force_login(staff_user)
    elsewhere.force_login(staff_user)
    page = reverse("password_change_done")
    assert elsewhere.get(page).status_code == 200

    response = here.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a-new-long-passphrase-9",
            "new_password2": "a-new-long-passphrase-9",
        },
    )
    assert response.status_code == 302
    assert here.get(page).status_code == 200  # the session that changed it stays logged in
    kicked = elsewhere.get(page)
    assert kicked.status_code == 302
    assert kicked["Location"].startswith(LOGIN)


def test_a_weak_new_password_is_refused_next_to_the_field(staff_user):
    client = Client()
    client.force_login(staff_user)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "short1x", "new_password2": "short1x"},
    )
    assert response.status_code == 200
    assert 'id="id_new_password2_error"' in response.content.decode()
    staff_user.refresh_from_db()
    assert staff_user.check_password(TEST_PASSWORD)


def test_a_deactivated_user_is_logged_out_on_the_next_request(db):
    user = UserFactory(username="leaver", role="Staff")
    client = Client()
    client.force_login(user)
    page = reverse("password_change_done")
    assert client.get(page).status_code == 200
    user.is_active = False
    user.save()
    assert client.get(page).status_code == 302


@pytest.mark.postgres
def test_a_garbage_forwarded_for_header_never_breaks_logging_in(staff_user, settings):
    # PostgreSQL: its inet column is what refuses the value.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client(raise_request_exception=False)
    response = _post_login(client, staff_user.username, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="<garbage>")
    assert response.status_code == 302
