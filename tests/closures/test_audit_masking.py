"""The audit page masks phones and emails for readers who see them masked in lists.

Reproduction: a Manager paging through the audit log read every phone number and email that was
edited or created (old and new values), which the search results hide from them.
"""

import pytest
from django.urls import reverse

from customers import gate
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited(manager_user):
    card = CustomerFactory(phone="+8613812345678", email="old.name@example.cn")
    gate.update_card(
        card, {"phone": "+8613900001111", "email": "new.name@example.cn"}, by=manager_user, source=gate.FORM
    )
    return card


def test_managers_see_the_contacts_in_the_log_masked(manager_client, edited):
    page = manager_client.get(reverse("closures:audit")).content.decode()
    for full in ("13812345678", "13900001111", "old.name@example.cn", "new.name@example.cn"):
        assert full not in page
    assert "+86138****5678" in page and "+86139****1111" in page
    assert "o***@example.cn" in page and "n***@example.cn" in page


def test_admins_who_see_contacts_in_lists_see_them_in_full(admin_client, edited):
    page = admin_client.get(reverse("closures:audit")).content.decode()
    assert "+8613812345678" in page and "new.name@example.cn" in page


def test_the_card_itself_shows_them_to_whoever_may_read_it(manager_client, edited):
    page = manager_client.get(reverse("customers:card", args=[edited.pk])).content.decode()
    history = page[page.index('id="h-history"') :]
    assert "+8613812345678" in history and "new.name@example.cn" in history
