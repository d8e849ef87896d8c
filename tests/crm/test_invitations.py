"""A new user is invited to set their own password; nobody types it for them (crm.invitations).

With mail configured the invitation is emailed; without (or without an address) the Admin is shown
a one-time link, once, to hand over. The link sets the password once, within PASSWORD_RESET_TIMEOUT,
and is never written to the audit trail.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from crm import invitations
from crm.models import AuditEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
CREATE = reverse("users:create")
CHOSEN = "violet-quarry-lamp-58"
LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s\"]+/[^/\s\"]+/)")


def _new_user(**overrides) -> dict:
    data = {"username": "chen_jie", "first_name": "Jie", "last_name": "Chen", "email": "chen.jie@example.com"}
    data |= {"is_active": "on", "role": "Staff", **overrides}
    return {k: v for k, v in data.items() if v is not None}


def _set_password(link: str, password: str = CHOSEN) -> Client:
    visitor = Client()
    form_url = visitor.get(link)["Location"]
    done = visitor.post(form_url, {"new_password1": password, "new_password2": password})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    return visitor


def _can_log_in(username: str, password: str) -> bool:
    return Client().post(reverse("login"), {"username": username, "password": password}).status_code == 302


@pytest.fixture
def no_mail(settings):
    settings.CRM_MAIL_ENABLED = False


def test_a_new_user_is_emailed_an_invitation_that_sets_their_password_once(admin_client, admin_user, mailoutbox):
    response = admin_client.post(CREATE, _new_user())

    assert response["Location"] == reverse("users:list")
    assert "An invitation was sent to chen.jie@example.com." in admin_client.get(reverse("users:list")).content.decode()
    (mail,) = mailoutbox
    assert mail.to == ["chen.jie@example.com"]
    assert mail.subject == "Your CRM account: set your password"
    assert "chen_jie" in mail.body and "within 24 hours" in mail.body
    link = LINK.search(mail.body).group(1)
    user = User.objects.get(username="chen_jie")
    assert not user.has_usable_password()

    _set_password(link)

    assert _can_log_in("chen_jie", CHOSEN)
    again = Client().get(link, follow=True).content.decode()
    assert "This link is not valid" in again  # spent once used
    entry = AuditEntry.objects.get(action="user.invite")
    assert (entry.actor, entry.object_id, entry.notes, entry.data["delivery"]) == (
        admin_user,
        str(user.pk),
        "chen.jie@example.com",
        "email",
    )
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert not AuditEntry.objects.filter(notes__contains=token).exists()
    assert token not in str(list(AuditEntry.objects.values_list("summary", "changes", "data")))
    audit_page = admin_client.get(reverse("closures:audit")).content.decode()
    assert "Invitation sent" in audit_page


def test_without_mail_the_admin_is_shown_the_link_once_to_hand_over(admin_client, no_mail, mailoutbox):
    response = admin_client.post(CREATE, _new_user())

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "Invitation for chen_jie" in page
    link = LINK.search(page).group(1)
    assert mailoutbox == []
    assert AuditEntry.objects.get(action="user.invite").data["delivery"] == "shown"
    # Shown only then: the user's page does not show it again.
    assert (
        link
        not in admin_client.get(reverse("users:edit", args=[User.objects.get(username="chen_jie").pk])).content.decode()
    )

    _set_password(link)
    assert _can_log_in("chen_jie", CHOSEN)


def test_a_new_user_without_an_email_address_gets_the_link_through_the_admin(admin_client, mailoutbox):
    page = admin_client.post(CREATE, _new_user(email="")).content.decode()

    assert LINK.search(page) and mailoutbox == []


def test_a_used_invitation_cannot_set_the_password_again(admin_client, no_mail):
    link = LINK.search(admin_client.post(CREATE, _new_user()).content.decode()).group(1)
    _set_password(link)

    visitor = Client()
    opened = visitor.get(link, follow=True)
    assert "This link is not valid" in opened.content.decode()
    assert _can_log_in("chen_jie", CHOSEN)


def test_a_link_expires_after_the_reset_timeout(admin_client, no_mail, settings):
    link = LINK.search(admin_client.post(CREATE, _new_user()).content.decode()).group(1)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every token older than "now + 1 s" has expired

    assert "This link is not valid" in Client().get(link, follow=True).content.decode()


def test_a_password_posted_with_a_new_user_is_ignored(admin_client, no_mail):
    admin_client.post(CREATE, _new_user(password=CHOSEN, password1=CHOSEN, password2=CHOSEN))

    assert not User.objects.get(username="chen_jie").has_usable_password()
    assert not _can_log_in("chen_jie", CHOSEN)


def test_an_inactive_new_user_gets_no_link_until_they_are_activated(admin_client, mailoutbox):
    response = admin_client.post(CREATE, _new_user(is_active=None))

    user = User.objects.get(username="chen_jie")
    assert response["Location"] == reverse("users:edit", args=[user.pk])
    assert mailoutbox == [] and not AuditEntry.objects.filter(action="user.invite").exists()


def test_without_mail_the_reset_button_creates_a_link_to_show(admin_client, staff_user, no_mail, mailoutbox):
    page = admin_client.get(reverse("users:edit", args=[staff_user.pk])).content.decode()
    assert "Create a password-reset link" in page and "Send a password-reset link" not in page

    shown = admin_client.post(reverse("users:reset_link", args=[staff_user.pk])).content.decode()

    assert "Password-reset link for staff_li" in shown
    _set_password(LINK.search(shown).group(1))
    assert _can_log_in("staff_li", CHOSEN) and mailoutbox == []


@pytest.mark.parametrize(
    ("backend", "configured", "enabled"),
    [
        ("django.core.mail.backends.smtp.EmailBackend", None, True),
        ("django.core.mail.backends.locmem.EmailBackend", None, True),
        ("django.core.mail.backends.console.EmailBackend", None, False),
        ("django.core.mail.backends.dummy.EmailBackend", None, False),
        ("django.core.mail.backends.smtp.EmailBackend", False, False),
        ("django.core.mail.backends.console.EmailBackend", True, True),
    ],
)
def test_mail_is_configured_by_the_backend_unless_crm_mail_enabled_says_otherwise(
    settings, backend, configured, enabled
):
    settings.EMAIL_BACKEND, settings.CRM_MAIL_ENABLED = backend, configured

    assert invitations.mail_enabled() is enabled


def test_staff_cannot_create_users_or_issue_links(staff_client, manager_client):
    target = UserFactory(username="someone", role="Staff")
    for client in (staff_client, manager_client):
        assert client.post(CREATE, _new_user()).status_code == 403
        assert client.post(reverse("users:reset_link", args=[target.pk])).status_code == 403
    assert not User.objects.filter(username="chen_jie").exists()
