"""Logins, failed logins and lockouts in the audit trail.

Everywhere else the audit trail is written explicitly by the operation or view that makes
the change (see crm/audit.py and DESIGN.md: "never by signals that fire out of sight").
Authentication is the exception, for a reason: the views that log people in are not ours.
Django's LoginView (and the admin's login) call ``authenticate()`` and ``login()``, which
announce their outcome only through ``user_logged_in`` and ``user_login_failed``; django-axes
decides on a lockout inside its own handler of ``user_login_failed`` and announces it only
through ``user_locked_out``. Receiving those signals is the one place that sees every login
path (the login page, the admin, any later API) without copying Django's views.

The entries name the account tried and the client's address, never the password: Django
passes the credentials to ``user_login_failed`` with sensitive values already masked, and
only the username is read from them here.
"""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import audit

USERNAME_MAX = 150


def _attempted_username(credentials: dict | None) -> str:
    field = get_user_model().USERNAME_FIELD
    value = (credentials or {}).get(field) or (credentials or {}).get("username") or ""
    return str(value)[:USERNAME_MAX]


@receiver(user_logged_in, dispatch_uid="crm.audit_login")
def audit_login(sender, request, user, **kwargs) -> None:
    audit.record("auth.login", actor=user, request=request, obj=user, object_type="user", summary=user.get_username())


@receiver(user_login_failed, dispatch_uid="crm.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The attempt is recorded under the name typed, whether or not such an account exists;
    # no actor, because nobody has proved who they are.
    audit.record("auth.login_failed", request=request, object_type="user", summary=_attempted_username(credentials))


@receiver(user_locked_out, dispatch_uid="crm.audit_locked_out")
def audit_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    audit.record("auth.locked_out", request=request, object_type="user", summary=str(username or "")[:USERNAME_MAX])
