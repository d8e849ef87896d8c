"""/healthz: for load balancers, public, plain HTTP allowed, and telling nothing but ok / unavailable."""

import socket
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

URL = "/healthz"


def test_the_health_check_lives_at_healthz():
    assert reverse("healthz") == URL


def test_a_healthy_app_answers_ok_without_a_login(db):
    response = Client().get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_the_answer_is_never_cached_and_sets_no_cookie(db):
    response = Client().get(URL)
    assert "no-cache" in response["Cache-Control"]
    assert not response.cookies


def test_an_unreachable_database_answers_503_and_reveals_nothing(db):
    secret = 'connection to server at "db.internal" (10.1.2.3), port 5432 failed: password authentication failed'
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError(secret)
    with mock.patch("crm.views.connection", broken):
        response = Client().get(URL)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    body = response.content.decode()
    for leak in ("db.internal", "10.1.2.3", "5432", "password", "OperationalError", "Traceback"):
        assert leak not in body


def test_a_failing_query_answers_503(db):
    broken = mock.MagicMock()
    broken.cursor.return_value.__enter__.return_value.execute.side_effect = OperationalError("server closed")
    with mock.patch("crm.views.connection", broken):
        response = Client().get(URL)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert "server closed" not in response.content.decode()


@pytest.fixture
def unreachable_database(tmp_path):
    """A real connection of the configured backend to a database that is not there (PostgreSQL: a
    closed port; SQLite: a file in a folder that does not exist)."""
    from django.db import connections

    wrapper = connections.create_connection("default")
    if wrapper.vendor == "postgresql":
        wrapper.settings_dict = {**wrapper.settings_dict, "HOST": "127.0.0.1", "PORT": "1", "CONN_MAX_AGE": 0}
    else:
        wrapper.settings_dict = {**wrapper.settings_dict, "NAME": str(tmp_path / "missing" / "crm.sqlite3")}
    yield wrapper
    wrapper.close()


def test_a_database_that_cannot_be_reached_answers_503(db, unreachable_database):
    with mock.patch("crm.views.connection", unreachable_database):
        response = Client().get(URL)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert "Traceback" not in response.content.decode()


def test_an_unreachable_broker_answers_503_when_one_is_configured(db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    with mock.patch("crm.celery.app.connection_for_write", side_effect=ConnectionRefusedError("127.0.0.1:9")):
        response = Client().get(URL)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert "127.0.0.1" not in response.content.decode()


def test_the_broker_is_not_checked_when_none_is_configured(db, settings):
    settings.CELERY_BROKER_URL = ""
    with mock.patch("crm.celery.app.connection_for_write", side_effect=AssertionError("checked")) as check:
        response = Client().get(URL)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    check.assert_not_called()


def _redis_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_broker(settings):
    """broker("redis://...") points the health check's Celery app at that broker for one test."""
    from crm.celery import app

    configured = app.conf.broker_url

    def point_at(url: str):
        settings.CELERY_BROKER_URL = url
        app.conf.broker_url = url
        return app

    yield point_at
    app.conf.broker_url = configured


@pytest.mark.skipif(not _redis_is_up(), reason="no Redis at 127.0.0.1:6379")
def test_a_reachable_redis_broker_answers_ok(db, redis_broker):
    app = redis_broker("redis://127.0.0.1:6379/0")
    with mock.patch.object(app, "connection_for_write", wraps=app.connection_for_write) as check:
        response = Client().get(URL)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    check.assert_called_once()  # the broker was really asked, through a real connection


def test_a_redis_broker_that_refuses_connections_answers_503(db, redis_broker):
    redis_broker("redis://127.0.0.1:1/0")  # nothing listens on port 1: a real refused connection
    response = Client().get(URL)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert "127.0.0.1" not in response.content.decode()


def test_the_health_check_is_not_redirected_to_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a new client builds its middleware from the changed settings
    assert client.get(URL).status_code == 200
    redirected = client.get(reverse("login"))
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")
