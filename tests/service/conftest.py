import pytest

from service.models import Category
from tests.factories import CustomerFactory, TeamFactory, UserFactory


def seed_defaults():
    """What the data migrations wrote: a transactional test's flush removes it for the tests after it."""
    import importlib

    from django.apps import apps

    importlib.import_module("service.migrations.0002_defaults").forward(apps, None)
    importlib.import_module("closures.migrations.0002_default_reasons").seed(apps, None)
    importlib.import_module("closures.migrations.0010_default_categories").forward(apps, None)


@pytest.fixture
def complaint(db):
    seed_defaults()
    return Category.objects.get(key="complaint")


@pytest.fixture
def desk(db):
    """Two teams: the service desk (two Staff) and after-sales (one Staff), and a Manager."""
    agent, colleague, fixer = (UserFactory(username=name, role="Staff") for name in ("agent", "colleague", "fixer"))
    return {
        "agent": agent,
        "colleague": colleague,
        "fixer": fixer,
        "manager": UserFactory(username="boss", role="Manager"),
        "desk": TeamFactory(name_en="Service desk", name_zh="客服中心", members=[agent, colleague]),
        "after_sales": TeamFactory(name_en="After-sales", name_zh="售后", members=[fixer]),
        "card": CustomerFactory(name="赵敏", customer_no="C000201"),
    }
