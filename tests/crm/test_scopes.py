"""Data scopes (crm/scopes.py): which cards a user sees, and the read paths that apply it: the search
and its counts, the bulk selection, the duplicate warning, the API."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from api import tokens
from crm import scopes
from crm.models import DataScope
from customers.models import Customer
from tests.factories import ClosureFactory, CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def scope(role: str, value: str) -> None:
    DataScope.objects.update_or_create(role=role, defaults={"scope": value})
    cache.delete(scopes.CACHE_KEY)


def visible(user) -> set[str]:
    fresh = type(user).objects.get(pk=user.pk)  # a new user object: no cached scope
    return set(Customer.objects.visible_to(fresh).values_list("customer_no", flat=True))


@pytest.fixture
def cards(staff_user, manager_user):
    colleague = UserFactory(username="staff_zhou", role="Staff")
    return {
        "mine": CustomerFactory(customer_no="M0001", owner=staff_user, name="我的客户"),
        "colleague": CustomerFactory(customer_no="C0001", owner=colleague, name="同事客户"),
        "manager": CustomerFactory(customer_no="B0001", owner=manager_user, name="经理客户"),
        "nobody": CustomerFactory(customer_no="N0001", owner=None, name="无主客户"),
        "colleague_user": colleague,
    }


def test_without_a_scope_every_role_sees_every_card_and_reads_nothing_more(
    staff_user, cards, django_assert_num_queries
):
    assert visible(staff_user) == {"M0001", "C0001", "B0001", "N0001"}
    scopes.role_scopes()  # cached now
    fresh = type(staff_user).objects.get(pk=staff_user.pk)
    with django_assert_num_queries(0):
        assert scopes.scope_of(fresh) == scopes.ALL


def test_own_scope_shows_the_users_own_cards_only(staff_user, manager_user, admin_user, cards):
    scope("Staff", "own")
    assert visible(staff_user) == {"M0001"}
    assert visible(manager_user) == {"M0001", "C0001", "B0001", "N0001"}  # Managers have no row: all
    scope("Admin", "own")  # Admins always see every card
    assert visible(admin_user) == {"M0001", "C0001", "B0001", "N0001"}


def test_team_scope_shows_the_cards_of_every_team_the_user_is_in_or_manages(staff_user, manager_user, cards):
    scope("Staff", "team")
    scope("Manager", "team")
    TeamFactory(members=[staff_user, cards["colleague_user"]], manager=manager_user)
    TeamFactory(members=[UserFactory(username="elsewhere", role="Staff")])
    assert visible(staff_user) == {"M0001", "C0001"}
    assert visible(manager_user) == {"M0001", "C0001", "B0001"}  # the team's and their own
    assert visible(cards["colleague_user"]) == {"M0001", "C0001"}


def test_a_user_in_two_roles_gets_the_wider_scope(staff_user, cards):
    scope("Staff", "own")
    staff_user.groups.add(Group.objects.get(name="Manager"))
    assert visible(staff_user) == {"M0001", "C0001", "B0001", "N0001"}  # Manager has no row: all


def test_the_search_and_its_count_show_only_the_cards_in_scope(staff_client, cards):
    scope("Staff", "own")
    page = staff_client.get(reverse("customers:search"), {"q": "客户"}).content.decode()
    assert "M0001" in page and "1 customer" in page
    assert not {"C0001", "B0001", "N0001"} & set(re.findall(r"\b[A-Z]\d{4}\b", page))
    everything = staff_client.get(reverse("customers:search")).content.decode()
    assert "M0001" in everything and "B0001" not in everything


def test_the_count_of_hidden_statuses_leaves_out_cards_outside_the_scope(staff_client, staff_user, cards):
    scope("Staff", "own")
    for key in ("mine", "colleague"):
        ClosureFactory(customer=cards[key])
    Customer.objects.filter(customer_no__in=["M0001", "C0001"]).update(status="closed")
    also = staff_client.get(reverse("customers:search_also"), {"q": "客户"}).content.decode()
    assert "1 closed" in also, also


def test_a_bulk_selection_drops_the_cards_outside_the_scope(staff_user, manager_user, cards):
    scope("Manager", "own")
    client = Client()
    client.force_login(manager_user)
    ids = f"{cards['mine'].pk},{cards['manager'].pk}"
    page = client.get(reverse("closures:bulk"), {"ids": ids}).content.decode()
    assert "1 customer selected." in page


def test_the_duplicate_warning_says_only_that_an_unseen_card_exists(staff_client, cards):
    scope("Staff", "own")
    data = {"name": "新客户", "phone": cards["colleague"].phone, "segment": "regular", "stage": "prospect"}
    page = staff_client.post(reverse("customers:create"), data).content.decode()
    assert "A card you may not open" in page
    assert "同事客户" not in page and not re.search(r"\bC0001\b", page)
    assert not Customer.objects.filter(name="新客户").exists()


def test_an_api_token_sees_as_its_role_and_another_owners_card_is_not_found(admin_user, cards):
    scope("Staff", "own")
    _token, secret = tokens.create_token(name="shop", owner=admin_user, role="Staff", by=admin_user)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    # The owner is an Admin, the token a Staff token: it sees the Admin's own cards only (none here).
    assert client.get(reverse("api:customer-detail", args=["C0001"])).status_code == 404
    listed = client.get(reverse("api:customer-list")).json()
    assert [row["number"] for row in listed["results"]] == []
    closure = ClosureFactory(customer=cards["colleague"])
    assert client.get(reverse("api:closure-detail", args=[closure.pk])).status_code == 404
    Customer.objects.filter(pk=cards["colleague"].pk).update(owner=admin_user)
    assert client.get(reverse("api:customer-detail", args=["C0001"])).status_code == 200
    assert client.get(reverse("api:closure-detail", args=[closure.pk])).status_code == 200


def test_a_teams_manager_is_set_on_the_settings_page_and_audited(admin_client, manager_user, staff_user):
    from crm.models import AuditEntry, Team

    response = admin_client.post(
        reverse("service:team_add"),
        {
            "name_en": "After-sales",
            "name_zh": "售后",
            "manager": manager_user.pk,
            "members": [staff_user.pk],
            "active": "on",
        },
    )
    assert response.status_code == 302
    team = Team.objects.get(name_en="After-sales")
    assert team.manager == manager_user
    entry = AuditEntry.objects.get(action="service.team_add")
    assert entry.changes["manager"] == [None, "manager_wang"]


@pytest.mark.parametrize("text", ["客", "客户"])
def test_a_short_name_finds_only_the_users_own_cards(staff_client, cards, text):
    """One or two characters: on PostgreSQL read from the owner index, not the name grams."""
    scope("Staff", "own")
    CustomerFactory(customer_no="M0002", owner=cards["mine"].owner, name="老客")
    page = staff_client.get(reverse("customers:search"), {"q": text}).content.decode()
    shown = set(re.findall(r"\b[A-Z]\d{4}\b", page))
    assert shown == ({"M0001", "M0002"} if text == "客" else {"M0001"})
    assert ("2 customers" if text == "客" else "1 customer") in page
