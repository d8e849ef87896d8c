"""Authentication backend: Django's ModelBackend with a user's permissions read in one query.

Every page checks permissions (the view's decorator, the menu, the buttons); ModelBackend loads
them once per request in two queries (the user's own, then their groups'), each through a
three-table join the ORM compiles anew. One query over both halves gives the same set for
half the cost. Same rules otherwise: inactive users have none, superusers have all.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class PermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            perms = Permission.objects.all()
            if not user_obj.is_superuser:
                perms = perms.filter(Q(group__user=user_obj) | Q(user=user_obj))
            rows = perms.values_list("content_type__app_label", "codename").order_by().distinct()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
