"""Role names are identifiers (the group names Staff, Manager, Admin); people read crm.roles.ROLE_LABELS."""

import pytest
from django.urls import reverse

from crm.roles import ROLE_NAMES

pytestmark = pytest.mark.django_db
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def test_the_users_list_shows_each_role_in_the_readers_language(admin_client, staff_user, manager_user):
    page = admin_client.get(reverse("users:list"), **CHINESE).content.decode()

    cell = '<td data-label="角色">{}</td>'
    assert cell.format("员工") in page and cell.format("经理") in page and cell.format("管理员") in page
    assert ">Staff</td>" not in page


def test_the_user_form_offers_the_roles_by_label_and_keeps_the_group_names_as_values(admin_client, staff_user):
    page = admin_client.get(reverse("users:edit", args=[staff_user.pk]), **CHINESE).content.decode()

    for name, label in zip(ROLE_NAMES, ("员工", "经理", "管理员"), strict=True):
        assert f'value="{name}"' in page
        assert f">{label}</option>" in page or f">{label}</label>" in page or f"> {label}</label>" in page


def test_the_role_label_filter_leaves_a_group_that_is_no_role_as_it_is():
    from django.utils import translation

    from crm.templatetags.crm_tags import role_label

    with translation.override("zh-hans"):
        assert (role_label("Manager"), role_label("Auditors")) == ("经理", "Auditors")
