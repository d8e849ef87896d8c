"""crm.backends.PermissionBackend gives exactly Django's ModelBackend permissions, in one query."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection

from crm.backends import PermissionBackend
from crm.roles import ADMIN, MANAGER, ROLE_PERMISSIONS, STAFF
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cache on it yet


@pytest.mark.parametrize("role", [STAFF, MANAGER, ADMIN])
def test_a_role_member_has_the_roles_permissions_read_in_one_query(role, django_assert_num_queries):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    user = fresh(user)
    with django_assert_num_queries(1):
        perms = PermissionBackend().get_all_permissions(user)
    assert perms == set(ROLE_PERMISSIONS[role]) == ModelBackend().get_all_permissions(fresh(user))


def test_own_and_group_permissions_are_both_counted_once():
    user = UserFactory()
    user.groups.add(Group.objects.get(name=STAFF))
    extra = Permission.objects.get(codename="export_closures")
    user.user_permissions.add(extra, Permission.objects.get(codename="view_customer"))  # the second one twice over
    perms = PermissionBackend().get_all_permissions(fresh(user))
    assert perms == set(ROLE_PERMISSIONS[STAFF]) | {"closures.export_closures"}
    assert perms == ModelBackend().get_all_permissions(fresh(user))


def test_inactive_users_have_none_and_superusers_have_all():
    inactive = UserFactory(is_active=False)
    inactive.groups.add(Group.objects.get(name=ADMIN))
    superuser = UserFactory(is_superuser=True)
    assert PermissionBackend().get_all_permissions(fresh(inactive)) == set()
    assert PermissionBackend().get_all_permissions(fresh(superuser)) == ModelBackend().get_all_permissions(
        fresh(superuser)
    )
    assert len(PermissionBackend().get_all_permissions(fresh(superuser))) == Permission.objects.count()


def test_a_user_without_a_role_has_no_permissions():
    assert PermissionBackend().get_all_permissions(fresh(UserFactory())) == set()


@pytest.mark.parametrize("role", [STAFF, ADMIN])
def test_the_sessions_user_comes_with_the_same_permissions(role, django_assert_num_queries):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    user.user_permissions.add(Permission.objects.get(codename="export_closures"))
    loaded = PermissionBackend().get_user(user.pk)
    on_postgres = connection.vendor == "postgresql"
    with django_assert_num_queries(0 if on_postgres else 1):  # PostgreSQL: read with the user
        perms = loaded.get_all_permissions()
    assert perms == ModelBackend().get_all_permissions(fresh(user))
    assert loaded.has_perm("closures.export_closures")


def test_a_permission_taken_from_a_role_is_gone_on_the_next_request():
    user = UserFactory()
    user.groups.add(Group.objects.get(name=STAFF))
    assert PermissionBackend().get_user(user.pk).has_perm("customers.add_customer")
    Group.objects.get(name=STAFF).permissions.remove(Permission.objects.get(codename="add_customer"))
    assert not PermissionBackend().get_user(user.pk).has_perm("customers.add_customer")


def test_an_inactive_or_unknown_user_is_no_sessions_user_and_superusers_still_have_all():
    assert PermissionBackend().get_user(UserFactory(is_active=False).pk) is None
    assert PermissionBackend().get_user(987654) is None
    superuser = PermissionBackend().get_user(UserFactory(is_superuser=True).pk)
    assert len(superuser.get_all_permissions()) == Permission.objects.count()


def test_the_sessions_user_id_may_come_as_text():
    user = UserFactory()
    user.groups.add(Group.objects.get(name=STAFF))
    loaded = PermissionBackend().get_user(str(user.pk))
    assert loaded == user and loaded.has_perm("customers.view_customer")


def test_two_users_read_one_after_the_other_each_get_their_own_permissions():
    """The user's query is compiled once and reused with another id each time."""
    staff, admin = UserFactory(), UserFactory()
    staff.groups.add(Group.objects.get(name=STAFF))
    admin.groups.add(Group.objects.get(name=ADMIN))
    for _ in range(2):
        assert PermissionBackend().get_user(staff.pk).get_all_permissions() == set(ROLE_PERMISSIONS[STAFF])
        assert PermissionBackend().get_user(admin.pk).get_all_permissions() == set(ROLE_PERMISSIONS[ADMIN])
