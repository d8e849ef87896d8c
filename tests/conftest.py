"""Shared personas, clients and the fast test settings (kept here, not in a second settings tree)."""

import shutil
import tempfile

import pytest
from django.test import Client

from . import skips
from .factories import UserFactory

_media_root = tempfile.mkdtemp(prefix="crm-test-media-")


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = _media_root
    settings.AXES_ENABLED = True
    settings.JOBS_RUN_INLINE = True  # jobs finish inside the request; test_job_threads.py tests the thread
    skips.register_gate(config)


def pytest_collection_modifyitems(config, items):
    skips.skip_other_database(items)


def pytest_unconfigure(config):
    shutil.rmtree(_media_root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in Chinese activates Chinese in its thread
    (LocaleMiddleware), and that stayed active for whatever test ran next in the same thread."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _outbox_floor_timer():
    """Each test's first dispatch raises the outbox floors (crm/outbox.py raises them at most once a
    minute per process, and a test must not depend on which tests ran before it)."""
    from crm import outbox

    outbox._floor_raised.clear()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: a value cached by one test (a card count under an
    epoch token, see customers/counts.py) must not answer for another, whose rolled-back data
    may carry the same moments."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def fresh_numbers(db):
    """Generated customer numbers start again at C000001 (on PostgreSQL they come from a sequence,
    which a test's rollback does not rewind)."""
    from django.db import connection

    from customers.numbers import SEQUENCE

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER SEQUENCE {SEQUENCE} RESTART WITH 1")


@pytest.fixture
def staff_user(db):
    return UserFactory(username="staff_li", first_name="Li", last_name="Na", role="Staff")


@pytest.fixture
def manager_user(db):
    return UserFactory(username="manager_wang", first_name="Wang", last_name="Fang", role="Manager")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin_zhao", first_name="Zhao", last_name="Lei", role="Admin")


@pytest.fixture
def outsider_user(db):
    """Logged in but in no role: may not see anything."""
    return UserFactory(username="outsider")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(staff_user):
    return _client_for(staff_user)


@pytest.fixture
def manager_client(manager_user):
    return _client_for(manager_user)


@pytest.fixture
def admin_client(admin_user):
    return _client_for(admin_user)


@pytest.fixture
def role_client(request, staff_user, manager_user, admin_user):
    """Parametrise with indirect=True and one of "staff", "manager", "admin"."""
    return _client_for({"staff": staff_user, "manager": manager_user, "admin": admin_user}[request.param])
