"""The Users page (Admin): create users with a role, change roles, deactivate, all audited."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from crm import scopes
from crm.models import AuditEntry
from tests.crm.user_forms import edit_form
from tests.factories import TEST_PASSWORD, UserFactory

User = get_user_model()
GOOD_PASSWORD = "lantern-harbour-92"


def _form(**overrides) -> dict:
    data = {
        "username": "chen_jie",
        "first_name": "Jie",
        "last_name": "Chen",
        "email": "chen.jie@example.com",
        "is_active": "on",
        "role": "Staff",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _roles(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_the_list_shows_every_user_with_their_role(admin_client, staff_user, manager_user):
    response = admin_client.get(reverse("users:list"))
    assert response.status_code == 200
    page = response.content.decode()
    for user in (staff_user, manager_user):
        assert user.username in page
        assert reverse("users:edit", args=[user.pk]) in page
    assert "Manager" in page


def test_the_list_does_not_query_per_user(admin_client, django_assert_max_num_queries):
    UserFactory.create_batch(5, role="Staff")
    scopes.role_scopes()  # the data scopes, read from the cache (from the table once per five minutes)
    # 16: the page, its menu and the inbox: one count per inbox source (callbacks, approvals, tickets due,
    # customers newly at risk, retention callbacks due, webhook endpoints disabled...).
    with django_assert_max_num_queries(16) as few:
        admin_client.get(reverse("users:list"))
    UserFactory.create_batch(10, role="Manager")
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse("users:list"))


def test_an_admin_creates_a_user_with_a_role(admin_client, admin_user, mailoutbox):
    response = admin_client.post(reverse("users:create"), _form(role="Manager", password=GOOD_PASSWORD))
    assert response.status_code == 302
    assert response["Location"] == reverse("users:list")
    user = User.objects.get(username="chen_jie")
    assert _roles(user) == ["Manager"]
    assert not user.has_usable_password()  # a posted password is ignored: they choose their own
    assert [mail.to for mail in mailoutbox] == [["chen.jie@example.com"]]  # the invitation
    assert user.is_active
    assert not user.is_staff and not user.is_superuser
    entry = AuditEntry.objects.get(action="user.create")
    assert entry.actor == admin_user
    assert entry.object_id == str(user.pk)
    assert entry.changes == {"role": [None, "Manager"]}
    assert GOOD_PASSWORD not in str(entry.changes) + entry.summary + entry.notes


def test_no_role_given_on_the_users_page_opens_the_django_admin(admin_client):
    """The admin site is a read-only window for superusers (tests/crm/test_admin_site.py)."""
    admin_client.post(reverse("users:create"), _form(username="new_admin", role="Admin"))
    admin_client.post(reverse("users:create"), _form(username="new_staff", role="Staff"))
    for username in ("new_admin", "new_staff"):
        assert not User.objects.get(username=username).is_staff
        client = Client()
        client.force_login(User.objects.get(username=username))
        assert client.get("/admin/", follow=True).status_code == 403


def test_a_taken_username_is_refused_next_to_the_field(admin_client, staff_user):
    response = admin_client.post(reverse("users:create"), _form(username=staff_user.username))
    assert response.status_code == 200
    assert 'id="id_username_error"' in response.content.decode()
    assert User.objects.filter(username=staff_user.username).count() == 1


def test_an_unknown_role_is_refused(admin_client):
    response = admin_client.post(reverse("users:create"), _form(role="Superuser"))
    assert response.status_code == 200
    assert 'id="id_role_error"' in response.content.decode()
    assert not User.objects.filter(username="chen_jie").exists()


def test_an_admin_changes_a_users_role_and_it_is_audited(admin_client, admin_user, staff_user):
    response = admin_client.post(reverse("users:edit", args=[staff_user.pk]), edit_form(staff_user, role="Manager"))
    assert response.status_code == 302
    staff_user.refresh_from_db()
    assert _roles(staff_user) == ["Manager"]
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.actor == admin_user
    assert entry.object_id == str(staff_user.pk)
    assert entry.changes == {"role": ["Staff", "Manager"]}


def test_the_new_role_applies_to_the_users_next_request(admin_client, staff_user):
    their_client = Client()
    their_client.force_login(staff_user)
    assert their_client.get(reverse("users:list")).status_code == 403
    admin_client.post(reverse("users:edit", args=[staff_user.pk]), edit_form(staff_user, role="Admin"))
    assert their_client.get(reverse("users:list")).status_code == 200


def test_removing_every_role_leaves_a_user_who_can_do_nothing(admin_client, staff_user):
    admin_client.post(reverse("users:edit", args=[staff_user.pk]), edit_form(staff_user, role=""))
    staff_user.refresh_from_db()
    assert _roles(staff_user) == []
    assert not staff_user.has_perm("customers.view_customer")


def test_an_admin_deactivates_a_user_who_is_then_logged_out(admin_client, staff_user):
    their_client = Client()
    their_client.force_login(staff_user)
    response = admin_client.post(reverse("users:edit", args=[staff_user.pk]), edit_form(staff_user, is_active=None))
    assert response.status_code == 302
    staff_user.refresh_from_db()
    assert not staff_user.is_active
    assert AuditEntry.objects.get(action="user.update").changes == {"is_active": [True, False]}
    after = their_client.get(reverse("password_change_done"))
    assert after.status_code == 302
    assert after["Location"].startswith(reverse("login"))
    relogin = Client().post(reverse("login"), {"username": staff_user.username, "password": TEST_PASSWORD})
    assert relogin.status_code == 200


def test_an_edit_keeps_the_password(admin_client, staff_user):
    admin_client.post(reverse("users:edit", args=[staff_user.pk]), edit_form(staff_user, first_name="Na"))
    staff_user.refresh_from_db()
    assert staff_user.first_name == "Na"
    assert staff_user.check_password(TEST_PASSWORD)
    assert AuditEntry.objects.get(action="user.update").changes == {"first_name": ["Li", "Na"]}


def test_an_invalid_edit_changes_nothing(admin_client, staff_user):
    response = admin_client.post(
        reverse("users:edit", args=[staff_user.pk]), edit_form(staff_user, role="Manager", email="not-an-email")
    )
    assert response.status_code == 200
    assert 'id="id_email_error"' in response.content.decode()
    staff_user.refresh_from_db()
    assert _roles(staff_user) == ["Staff"]
    assert not AuditEntry.objects.filter(action="user.update").exists()


def test_a_hostile_name_is_shown_escaped(admin_client):
    admin_client.post(reverse("users:create"), _form(first_name="<script>alert(1)</script>"))
    page = admin_client.get(reverse("users:list")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_editing_a_user_who_does_not_exist_is_a_404(admin_client):
    assert admin_client.get(reverse("users:edit", args=[999_999])).status_code == 404


@pytest.mark.parametrize("who", ["staff_client", "manager_client"])
@pytest.mark.parametrize(
    ("method", "name", "needs_pk"),
    [
        ("get", "users:list", False),
        ("get", "users:create", False),
        ("post", "users:create", False),
        ("get", "users:edit", True),
        ("post", "users:edit", True),
    ],
)
def test_staff_and_managers_are_refused_the_users_pages(who, method, name, needs_pk, request, admin_user):
    client = request.getfixturevalue(who)
    url = reverse(name, args=[admin_user.pk]) if needs_pk else reverse(name)
    data = _form(username="sneaky", role="Admin") if method == "post" else None
    response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    assert response.status_code == 403
    assert not User.objects.filter(username="sneaky").exists()
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_a_manager_cannot_promote_themselves(manager_client, manager_user):
    response = manager_client.post(reverse("users:edit", args=[manager_user.pk]), edit_form(manager_user, role="Admin"))
    assert response.status_code == 403
    assert _roles(manager_user) == ["Manager"]
