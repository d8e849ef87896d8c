"""The Django admin: a read-only window for superusers (diagnosis), nothing more.

Everything users do goes through the CRM's own pages, which check the role matrix and write
the audit trail. The admin does neither, so no model in it can be added, changed or deleted
(customers/admin.py and closures/admin.py use ReadOnlyAdmin too), and only superusers reach it:
no role makes a user ``is_staff`` (tests/crm/test_admin_site.py states who sees what). Here:
- audit entries are append-only for everyone, superusers included (the model and, on
  PostgreSQL, a trigger refuse changes as well; this keeps the admin from offering them);
- jobs are shown to superusers for diagnosis; retries go through the job page;
- users and groups are managed on the Users page (audited, roles only). Django's user admin
  would let anyone with "change user" make themselves a superuser or hand out single
  permissions outside the role matrix, and group permissions are rewritten from
  crm/roles.py on every migrate, so both are taken out of the admin.
The admin has no log-in page of its own: anonymous visitors go through the CRM's login page,
with its lockout and its audit entries; a logged-in user who is not a superuser gets 403.
"""

import uuid
from functools import wraps

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, Job

admin.site.site_header = _("CRM administration")
admin.site.site_title = _("CRM administration")


def _no_admin_login(login_view):
    """Anonymous: the CRM's own login page. Logged in without admin access: 403, not a second login form."""

    @wraps(login_view)
    def login(request, extra_context=None):
        if request.user.is_active and not request.user.is_staff:
            raise PermissionDenied
        return login_view(request, extra_context)

    return login_required(login)


admin.site.login = _no_admin_login(admin.site.login)

for model in (get_user_model(), Group):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "action", "object_type", "object_id", "customer_id", "ip", "summary"]
    list_filter = ["action", ("actor", admin.RelatedOnlyFieldListFilter), "at"]
    search_fields = ["object_id", "customer_id", "actor_name"]  # see get_search_results
    search_help_text = _("An object id, a customer id or a user name, exactly.")
    date_hierarchy = "at"
    list_select_related = ["actor"]
    show_full_result_count = False  # no COUNT(*) over the whole trail on every page
    fields = [
        "at",
        "actor",
        "actor_name",
        "ip",
        "action",
        "object_type",
        "object_id",
        "customer_id",
        "summary",
        "changes",
        "reason",
        "notes",
    ]
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        """Exact matches only, so the search uses the indexes and a word never hits a number column."""
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(object_id=term) | Q(actor_name=term)
        if term.isdigit() and len(term) < 19:
            match |= Q(customer_id=int(term))
        return queryset.filter(match), False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "created_by", "state", "progress", "total", "attempts", "finished_at"]
    list_filter = ["kind", "state", "created_at"]
    list_select_related = ["created_by"]
    search_fields = ["id"]  # see get_search_results
    search_help_text = _("A job's id, exactly.")
    fields = [
        "id",
        "kind",
        "created_by",
        "created_at",
        "state",
        "progress",
        "total",
        "attempts",
        "heartbeat_at",
        "finished_at",
        "error",
        "result",
    ]
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        try:
            job_id = uuid.UUID(search_term.strip())
        except ValueError:
            return (queryset.none() if search_term.strip() else queryset), False
        return queryset.filter(pk=job_id), False
