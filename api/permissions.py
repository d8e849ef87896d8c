"""Every API view states the permissions it needs, as every page does (crm.permissions).

``required_permissions`` on a view (a tuple of "app.codename") is what a caller needs for every
method; ``method_permissions`` adds more for some methods (``{"POST": (...)}``). The caller is a
user or a token acting as a user of its role (api.tokens), so a token may do exactly what a person
of that role may on the pages.
"""

from __future__ import annotations

from rest_framework import permissions


class DeclaredPermissions(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = tuple(getattr(view, "required_permissions", None) or ())
        needed += tuple((getattr(view, "method_permissions", None) or {}).get(request.method, ()))
        return user.has_perms(needed)
