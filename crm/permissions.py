"""Every view states its permission with one of these decorators.

tests/crm/test_url_access.py walks every URL pattern and fails when a view carries
neither, so a new view cannot ship without a check.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def require(*perms: str) -> Callable:
    """Login plus every named permission; a logged-in user without them gets 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def checked(request, *args, **kwargs):
            if perms and not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped = login_required(checked)
        wrapped.required_permissions = perms
        return wrapped

    return decorator


def logged_in(view: Callable) -> Callable:
    """Any logged-in user; the view checks ownership of the object itself (e.g. export jobs)."""
    wrapped = login_required(view)
    wrapped.required_permissions = ()
    return wrapped


def public(view: Callable) -> Callable:
    """Reachable without logging in: the login page, the password-reset link's pages, /healthz."""
    view.required_permissions = None
    view.is_public = True
    return view
