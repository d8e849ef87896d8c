"""The header's main menu (crm.navigation): each role sees its entries, in order, and no more."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from crm.navigation import MENU, menu_items
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def labels(user) -> list[str]:
    return re.findall(r'<li><a href="[^"]+">([^<]+)</a></li>', str(menu_items(user)))


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("Staff", ["Customers", "New customer", "Tickets", "Follow-ups", "Customers at risk"]),
        (
            "Manager",
            [
                "Customers",
                "New customer",
                "Tickets",
                "Follow-ups",
                "Customers at risk",
                "Closure analytics",
                "Service dashboard",
                "Churn warning",
                "Approvals",
                "Audit log",
            ],
        ),
        (
            "Admin",
            [
                "Customers",
                "New customer",
                "Tickets",
                "Follow-ups",
                "Customers at risk",
                "Closure analytics",
                "Service dashboard",
                "Churn warning",
                "Approvals",
                "Audit log",
                "Reasons",
                "Follow-up policy",
                "Service settings",
                "Scoring settings",
                "Import",
                "Import past closures",
                "Import past tickets",
                "Import batches",
                "API tokens",
                "Webhooks",
                "Personal-data requests",
                "Data retention",
                "Legal holds",
                "Users",
                "Data scopes",
            ],
        ),
    ],
)
def test_each_role_sees_its_menu_entries_in_order(role, expected):
    assert labels(UserFactory(role=role)) == expected


def test_a_user_without_a_role_sees_no_entry():
    assert labels(UserFactory()) == []


def test_every_entry_links_to_its_page_and_names_a_real_permission():
    html = str(menu_items(UserFactory(role="Admin")))
    for permission, url_name, _label in MENU:
        assert f'href="{reverse(url_name)}"' in html
        app_label, codename = permission.split(".")
        assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), permission


def test_the_entries_are_translated():
    with translation.override("zh-hans"):
        assert labels(UserFactory(role="Staff")) == ["客户", "新建客户", "处理单", "跟进", "流失风险客户"]
