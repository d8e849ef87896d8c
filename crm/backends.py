"""Authentication backend: Django's ModelBackend with a user's permissions read in one query,
and on PostgreSQL with the user itself.

Every page checks permissions (the view's decorator, the menu, the buttons); ModelBackend loads
them once per request in two queries (the user's own, then their groups'), each through a
three-table join the ORM compiles anew. One query over both halves gives the same set for
half the cost. On PostgreSQL the request's user (``get_user``, which the session middleware
calls once per request) carries that set as an array column of the same query, so a page pays
no round trip for permissions at all (each costs about 1 ms on the benchmark machine). Same
rules otherwise: inactive users have none, superusers have all.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections, router
from django.db.models import CharField, OuterRef, Q, Value
from django.db.models.functions import Concat


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

    def get_user(self, user_id):
        """The session's user; on PostgreSQL with their permissions, in one query."""
        model = get_user_model()
        users = model._default_manager.all()
        if connections[router.db_for_read(model)].vendor == "postgresql":
            names = (
                Permission.objects.filter(Q(group__user=OuterRef("pk")) | Q(user=OuterRef("pk")))
                .order_by()
                .values(full_name=Concat("content_type__app_label", Value("."), "codename", output_field=CharField()))
            )
            users = users.annotate(permission_names=ArraySubquery(names))
        try:
            user = users.get(pk=user_id)
        except model.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        names = getattr(user, "permission_names", None)
        if names is not None and user.is_active and not user.is_superuser:
            user._perm_cache = set(names)
        return user
