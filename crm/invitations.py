"""One-time links to set a password: the invitation of a new user and the reset link an Admin issues.

No Admin ever types another person's password. A new user is created without one (unusable) and
gets an invitation; an Admin can issue a reset link later. Either is a link to Django's own
set-password page (``password_reset_confirm``) with a token of ``default_token_generator``: it
works once (the token is derived from the password hash and the last login, so setting the
password spends it) and for PASSWORD_RESET_TIMEOUT.

How it reaches the user (:func:`deliver`): by email when mail is configured (:func:`mail_enabled`)
and the user has an address; otherwise the Admin sees the link once, on the page that issued it,
to hand over in person. When the mail server refuses, the Admin is shown the link instead. The
audit entry says which way it went and to which address, never the link itself.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
# Backends that deliver nothing to anyone: with them the link is shown to the Admin instead.
UNDELIVERED_BACKENDS = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
)
INVITATION = "invitation"
RESET = "reset"
TEMPLATES = {
    INVITATION: ("registration/invitation_subject.txt", "registration/invitation_email.txt"),
    RESET: ("registration/reset_link_subject.txt", "registration/reset_link_email.txt"),
}


def mail_enabled() -> bool:
    """Whether the CRM can email people: settings.CRM_MAIL_ENABLED (env CRM_MAIL_ENABLED) when set,
    otherwise whether EMAIL_BACKEND actually delivers mail (not the console, dummy or file backend)."""
    configured = getattr(settings, "CRM_MAIL_ENABLED", None)
    if configured is not None:
        return bool(configured)
    return settings.EMAIL_BACKEND not in UNDELIVERED_BACKENDS


@dataclass(frozen=True)
class Delivery:
    """How a link went: ``emailed_to`` an address, or ``link`` to be shown to the Admin (once)."""

    emailed_to: str = ""
    link: str = ""
    mail_failed: bool = False

    @property
    def how(self) -> str:
        return "email" if self.emailed_to else "shown"


def refusal(user) -> str | None:
    """Why no link can be issued for ``user`` (a message for the Admin), or None."""
    if not user.is_active:
        return _("%(name)s is inactive. Tick “Active” and save first, then issue the link.") % {
            "name": user.get_username()
        }
    return None


def set_password_link(request, user) -> str:
    """An absolute one-time link to the set-password page for ``user``."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return request.build_absolute_uri(path)


def deliver(request, user, kind: str) -> Delivery:
    """Email ``user`` a one-time link (``kind``: INVITATION or RESET) where mail works, else return it to show."""
    link = set_password_link(request, user)
    if not (mail_enabled() and user.email):
        return Delivery(link=link)
    subject_template, body_template = TEMPLATES[kind]
    context = {"user": user, "link": link, "valid_hours": valid_hours()}
    subject = "".join(render_to_string(subject_template, context).splitlines())
    body = render_to_string(body_template, context)
    try:
        EmailMultiAlternatives(subject, body, None, [user.email]).send()
    except OSError:
        logger.exception("%s link for user %s not sent", kind, user.pk)
        return Delivery(link=link, mail_failed=True)
    return Delivery(emailed_to=user.email)


def valid_hours() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)
