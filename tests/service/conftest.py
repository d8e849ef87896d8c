import pytest

from service.models import Category
from tests.factories import CustomerFactory, TeamFactory, UserFactory


@pytest.fixture
def complaint(db):
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
