"""Who may change whose credentials on the Users page (issue 16: an Admin took over a superuser).

Superusers are not managed in the CRM; nobody sets another person's password (a one-time
reset link goes to the address on their record instead); another Admin's username and email
are read-only; an Admin cannot remove their own Admin role or deactivate themselves.
"""

import re
import smtplib

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from crm.models import AuditEntry
from tests.crm.user_forms import edit_form
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
ROOT_PASSWORD = "root-original-passphrase-7"
TAKEOVER_PASSWORD = "mine-now-passphrase-31"
NEW_PASSWORD = "violet-quarry-lamp-58"


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", ROOT_PASSWORD)


@pytest.fixture
def other_admin(db):
    return UserFactory(username="admin_qian", email="qian@example.com", role="Admin")


def _edit(user) -> str:
    return reverse("users:edit", args=[user.pk])


def _reset(user) -> str:
    return reverse("users:reset_link", args=[user.pk])


def _can_log_in(username: str, password: str) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Superusers ------------------------------------------------------------------------------


def test_an_admin_cannot_set_a_superusers_password_and_log_in_as_it(admin_client, superuser):
    # The reproduction: the edit form took a password for any user, superusers included.
    response = admin_client.post(_edit(superuser), edit_form(superuser, password=TAKEOVER_PASSWORD, role="Admin"))

    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.check_password(ROOT_PASSWORD) and not superuser.check_password(TAKEOVER_PASSWORD)
    assert list(superuser.groups.values_list("name", flat=True)) == []
    assert not AuditEntry.objects.filter(action="user.update").exists()
    assert not _can_log_in("root", TAKEOVER_PASSWORD)


def test_an_admin_cannot_change_anything_of_a_superuser(admin_client, superuser):
    response = admin_client.post(_edit(superuser), edit_form(superuser, email="mine@example.com", is_active=None))

    assert response.status_code == 403
    superuser.refresh_from_db()
    assert (superuser.email, superuser.is_active, superuser.is_superuser) == ("root@example.com", True, True)


def test_a_superusers_edit_page_is_refused(admin_client, superuser):
    assert admin_client.get(_edit(superuser)).status_code == 403


def test_an_admin_cannot_send_a_superuser_a_reset_link(admin_client, superuser, mailoutbox):
    assert admin_client.post(_reset(superuser)).status_code == 403
    assert mailoutbox == []
    assert not AuditEntry.objects.filter(action="user.reset_link").exists()


def test_the_list_marks_superusers_and_gives_them_no_edit_link(admin_client, superuser, staff_user):
    page = admin_client.get(reverse("users:list")).content.decode()

    row = page[page.index('<td class="primary">root') :].split("</tr>")[0]
    assert "Superuser" in row
    assert _edit(superuser) not in page
    assert _edit(staff_user) in page


# --- No password on any edit -----------------------------------------------------------------


@pytest.mark.parametrize("target", ["staff_user", "manager_user", "other_admin", "admin_user"])
def test_an_admin_cannot_set_a_password_on_any_edit(admin_client, request, target):
    user = request.getfixturevalue(target)

    page = admin_client.get(_edit(user)).content.decode()
    response = admin_client.post(_edit(user), edit_form(user, password=TAKEOVER_PASSWORD, first_name="Renamed"))

    assert 'name="password"' not in page
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.first_name == "Renamed"  # the rest of the form was saved...
    assert user.check_password(TEST_PASSWORD)  # ...and the password ignored
    assert not _can_log_in(user.username, TAKEOVER_PASSWORD)
    assert "password" not in AuditEntry.objects.get(action="user.update").changes


def test_the_new_user_form_has_no_password_field(admin_client):
    page = admin_client.get(reverse("users:create")).content.decode()
    assert 'name="password"' not in page and 'type="password"' not in page
    assert "Admins do not set other people’s passwords" in page


# --- Another Admin's credentials ---------------------------------------------------------------


def test_an_admin_cannot_change_another_admins_email_or_username(admin_client, other_admin, mailoutbox):
    # Otherwise: put your own address on their record, then send yourself their reset link.
    response = admin_client.post(
        _edit(other_admin), edit_form(other_admin, email="admin_zhao@example.com", username="hijacked")
    )

    assert response.status_code == 302
    other_admin.refresh_from_db()
    assert (other_admin.username, other_admin.email) == ("admin_qian", "qian@example.com")
    assert not AuditEntry.objects.filter(action="user.update").exclude(changes={}).exists()
    admin_client.post(_reset(other_admin))
    assert [mail.to for mail in mailoutbox] == [["qian@example.com"]]


def test_another_admins_username_and_email_are_shown_read_only(admin_client, other_admin):
    page = admin_client.get(_edit(other_admin)).content.decode()

    for name in ("username", "email"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert "disabled" in tag
    assert page.count("Another Admin’s sign-in details: only they can change them.") == 2


def test_an_admin_can_still_change_another_admins_role_and_deactivate_them(admin_client, other_admin):
    response = admin_client.post(_edit(other_admin), edit_form(other_admin, role="Manager", is_active=None))

    assert response.status_code == 302
    other_admin.refresh_from_db()
    assert list(other_admin.groups.values_list("name", flat=True)) == ["Manager"]
    assert not other_admin.is_active


def test_an_admin_changes_their_own_email_and_a_staff_users(admin_client, admin_user, staff_user):
    admin_client.post(_edit(admin_user), edit_form(admin_user, email="zhao.new@example.com"))
    admin_client.post(_edit(staff_user), edit_form(staff_user, email="li.new@example.com"))

    admin_user.refresh_from_db()
    staff_user.refresh_from_db()
    assert (admin_user.email, staff_user.email) == ("zhao.new@example.com", "li.new@example.com")


# --- Yourself ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"role": "Manager"}, "role", "You cannot remove your own Admin role; another Admin can."),
        ({"role": ""}, "role", "You cannot remove your own Admin role; another Admin can."),
        ({"is_active": None}, "is_active", "You cannot deactivate your own account; another Admin can."),
    ],
)
def test_an_admin_cannot_demote_or_deactivate_themselves(admin_client, admin_user, change, field, message):
    response = admin_client.post(_edit(admin_user), edit_form(admin_user, first_name="Changed", **change))

    assert response.status_code == 200
    page = response.content.decode()
    error_at = page.index(f'id="id_{field}_error"')
    assert message in page[error_at : error_at + 200]
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.first_name == "Zhao"
    assert list(admin_user.groups.values_list("name", flat=True)) == ["Admin"]
    assert not AuditEntry.objects.filter(action="user.update").exists()


# --- The reset link ---------------------------------------------------------------------------


def test_a_reset_link_lets_the_user_set_a_new_password_and_log_in(admin_client, admin_user, staff_user, mailoutbox):
    response = admin_client.post(_reset(staff_user))

    assert response.status_code == 302 and response["Location"] == _edit(staff_user)
    assert _messages(admin_client.get(response["Location"])) == [
        "A password-reset link was sent to staff_li@example.com."
    ]
    (mail,) = mailoutbox
    assert mail.to == ["staff_li@example.com"]
    assert mail.subject == "Set your CRM password"
    assert "staff_li" in mail.body and "It works once, within 24 hours" in mail.body
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.body).group(1)

    visitor = Client()
    opened = visitor.get(link)
    assert opened.status_code == 302  # Django moves the token out of the address into the session
    form_page = visitor.get(opened["Location"])
    assert "Set a new password" in form_page.content.decode()
    done = visitor.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert "Log in with it now." in visitor.get(done["Location"]).content.decode()

    assert _can_log_in("staff_li", NEW_PASSWORD)
    assert not _can_log_in("staff_li", TEST_PASSWORD)
    again = Client().get(link, follow=True).content.decode()
    assert "This link is not valid" in again  # spent once used

    entry = AuditEntry.objects.get(action="user.reset_link")
    assert (entry.actor, entry.object_id, entry.summary) == (admin_user, str(staff_user.pk), "staff_li")
    assert entry.data["delivery"] == "email" and entry.notes == "staff_li@example.com"
    audit_page = admin_client.get(reverse("closures:audit")).content.decode()
    assert "Password-reset link issued" in audit_page and "By email" in audit_page
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert token not in f"{entry.summary} {entry.notes} {entry.changes}"


def test_a_weak_new_password_is_refused_on_the_reset_page(admin_client, staff_user, mailoutbox):
    admin_client.post(_reset(staff_user))
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    visitor = Client()
    form_url = visitor.get(link)["Location"]

    response = visitor.post(form_url, {"new_password1": "short1x", "new_password2": "short1x"})

    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    staff_user.refresh_from_db()
    assert staff_user.check_password(TEST_PASSWORD)


def test_a_user_without_an_email_gets_the_link_through_the_admin(admin_client, mailoutbox):
    nobody = UserFactory(username="no_mail", email="", role="Staff")

    response = admin_client.post(_reset(nobody))

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert re.search(r'value="http://testserver/accounts/reset/[^"]+/"', response.content.decode())
    assert mailoutbox == []
    assert AuditEntry.objects.get(action="user.reset_link").data["delivery"] == "shown"


def test_an_inactive_user_gets_no_link(admin_client, mailoutbox):
    gone = UserFactory(username="gone", role="Staff", is_active=False)

    response = admin_client.post(_reset(gone), follow=True)

    assert _messages(response) == ["gone is inactive. Tick “Active” and save first, then issue the link."]
    assert mailoutbox == []


def test_a_mail_server_that_refuses_is_reported_and_the_link_shown_instead(admin_client, staff_user, monkeypatch):
    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)

    page = admin_client.post(_reset(staff_user)).content.decode()

    assert "The email could not be sent. Give them this link instead." in page
    assert "/accounts/reset/" in page
    entry = AuditEntry.objects.get(action="user.reset_link")
    assert entry.data["delivery"] == "shown" and entry.notes == ""


def test_the_link_goes_only_to_the_user_whose_page_it_is(admin_client, staff_user, mailoutbox):
    UserFactory(username="shares_the_address", email=staff_user.email, role="Staff")

    admin_client.post(_reset(staff_user))

    (mail,) = mailoutbox
    assert "staff_li" in mail.body and "shares_the_address" not in mail.body


def test_a_reset_link_can_only_be_posted(admin_client, staff_user, mailoutbox):
    assert admin_client.get(_reset(staff_user)).status_code == 405
    assert mailoutbox == []


def test_the_reset_pages_are_in_the_readers_language(admin_client, staff_user, mailoutbox):
    admin_client.post(_reset(staff_user))
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    visitor = Client(headers={"accept-language": "zh-hans"})

    page = visitor.get(visitor.get(link)["Location"]).content.decode()

    assert "设置新密码" in page and "Set a new password" not in page
