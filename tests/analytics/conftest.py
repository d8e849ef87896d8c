import pytest

from .history import build_history


@pytest.fixture(autouse=True)
def shanghai(settings):
    """The tests' local dates are Shanghai dates, whatever TIME_ZONE the environment sets."""
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def history(db):
    return build_history()
