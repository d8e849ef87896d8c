"""The role matrix in the README and the groups in the database say the same as crm/roles.py."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from crm.roles import ADMIN, MANAGER, ROLE_PERMISSIONS, STAFF, sync_roles

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(?P<perm>[a-z_]+\.[a-z_]+)` \| [^|]+ \|(?P<marks>(?:[^|]*\|){3})\s*$")


def _readme_matrix() -> dict[str, set[str]]:
    matrix = {STAFF: set(), MANAGER: set(), ADMIN: set()}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            marks = [cell.strip() for cell in match["marks"].split("|")[:3]]
            for role, mark in zip((STAFF, MANAGER, ADMIN), marks, strict=True):
                if mark == "✓":
                    matrix[role].add(match["perm"])
    return matrix


def test_readme_role_matrix_matches_the_code():
    readme = _readme_matrix()
    for role, perms in ROLE_PERMISSIONS.items():
        assert readme[role] == set(perms), role


@pytest.mark.django_db
def test_groups_hold_exactly_the_permissions_of_their_role():
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(perms), role


@pytest.mark.django_db
def test_syncing_roles_again_changes_nothing_and_repairs_drift():
    staff = Group.objects.get(name=STAFF)
    staff.permissions.clear()
    sync_roles()
    sync_roles()
    assert staff.permissions.count() == len(ROLE_PERMISSIONS[STAFF])
    assert Group.objects.filter(name__in=[STAFF, MANAGER, ADMIN]).count() == 3


def test_each_role_includes_the_one_below_it():
    assert set(ROLE_PERMISSIONS[STAFF]) < set(ROLE_PERMISSIONS[MANAGER]) < set(ROLE_PERMISSIONS[ADMIN])
