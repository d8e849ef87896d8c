import pytest

from .history import build_history
from .service_history import build as build_service_history


@pytest.fixture(autouse=True)
def shanghai(settings):
    """The tests' local dates are Shanghai dates, whatever TIME_ZONE the environment sets."""
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def history(db):
    return build_history()


@pytest.fixture
def service_world(db, monkeypatch):
    """A month of tickets and closures (tests/analytics/service_history.py)."""
    return build_service_history(monkeypatch)
