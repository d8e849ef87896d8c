"""Sessions end after SESSION_IDLE_MINUTES without activity, and activity keeps them alive."""

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.middleware import STAMP_KEY

PAGE = "password_change_done"  # any page a logged-in user may open


@pytest.fixture
def logged_in(staff_user, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    client = Client()
    client.force_login(staff_user)
    return client


def _pretend_last_activity(client: Client, minutes_ago: float, window_minutes: int) -> Session:
    """Rewind the session as if its expiry had last been moved ``minutes_ago``."""
    session = client.session
    session[STAMP_KEY] = int(time.time() - minutes_ago * 60)
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(minutes=window_minutes - minutes_ago)
    )
    return Session.objects.get(session_key=session.session_key)


def test_the_idle_window_comes_from_the_environment(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60  # SESSION_IDLE_MINUTES unset in the tests


def test_activity_late_in_the_window_moves_the_expiry_forward(logged_in, settings):
    window = settings.SESSION_COOKIE_AGE // 60
    before = _pretend_last_activity(logged_in, minutes_ago=window * 0.6, window_minutes=window)
    assert logged_in.get(reverse(PAGE)).status_code == 200
    after = Session.objects.get(pk=before.pk)
    assert after.expire_date > before.expire_date + timedelta(minutes=window * 0.5)
    assert after.expire_date >= timezone.now() + timedelta(minutes=window - 1)
    assert abs(after.get_decoded()[STAMP_KEY] - time.time()) < 60


def test_activity_early_in_the_window_does_not_write_the_session(logged_in, settings):
    window = settings.SESSION_COOKIE_AGE // 60
    before = _pretend_last_activity(logged_in, minutes_ago=window * 0.2, window_minutes=window)
    for _ in range(3):
        assert logged_in.get(reverse(PAGE)).status_code == 200
    after = Session.objects.get(pk=before.pk)
    assert after.expire_date == before.expire_date
    assert after.session_data == before.session_data


def test_a_session_left_idle_for_the_window_is_logged_out(logged_in, settings):
    window = settings.SESSION_COOKIE_AGE // 60
    _pretend_last_activity(logged_in, minutes_ago=window + 1, window_minutes=window)
    response = logged_in.get(reverse(PAGE))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_stale_stamp_logs_out_even_if_the_backend_still_holds_the_session(logged_in, settings):
    window = settings.SESSION_COOKIE_AGE // 60
    session = _pretend_last_activity(logged_in, minutes_ago=window + 1, window_minutes=window)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(days=1))
    response = logged_in.get(reverse(PAGE))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Session.objects.filter(pk=session.pk).exists()


def test_logging_in_stamps_the_session(staff_user):
    from tests.factories import TEST_PASSWORD

    client = Client()
    client.post(reverse("login"), {"username": staff_user.username, "password": TEST_PASSWORD})
    assert abs(client.session[STAMP_KEY] - time.time()) < 60


def test_anonymous_visitors_get_no_session(db):
    client = Client()
    client.get(reverse("healthz"))
    client.get(reverse("login"))
    assert not Session.objects.exists()
