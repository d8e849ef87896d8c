"""The Django admin shows closures, requests, reasons and the closure settings read-only.

Statuses change only through the closure operations (closures/operations.py, erasure.py, bulk.py),
and reasons and the approval setting only on the app's own pages (Reasons, Approval settings),
which audit every change; an admin form would change them without an audit entry.
"""

from django.contrib import admin

from crm.admin import ReadOnlyAdmin

from .models import Closure, ClosureReason, ClosureRequest, ClosureSettings


@admin.register(ClosureReason)
class ClosureReasonAdmin(ReadOnlyAdmin):
    list_display = ["code", "label_en", "label_zh", "category", "is_active", "display_order", "notes_required"]
    list_filter = ["category", "is_active", "for_close", "for_void", "for_archive", "for_erase"]
    search_fields = ["code", "label_en", "label_zh"]
    ordering = ["display_order", "id"]


@admin.register(Closure)
class ClosureAdmin(ReadOnlyAdmin):
    list_display = ["customer", "action", "reason", "category", "performed_by", "performed_at", "reverted_at"]
    list_filter = ["action", "category", "customer_erased"]
    list_select_related = ["customer", "reason", "performed_by"]
    date_hierarchy = "performed_at"
    search_fields = ["customer__customer_no"]
    show_full_result_count = False


@admin.register(ClosureRequest)
class ClosureRequestAdmin(ReadOnlyAdmin):
    list_display = ["customer", "action", "reason", "requested_by", "requested_at", "state", "decided_by"]
    list_filter = ["state", "action"]
    list_select_related = ["customer", "reason", "requested_by", "decided_by"]
    search_fields = ["customer__customer_no"]


@admin.register(ClosureSettings)
class ClosureSettingsAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "approval_required", "approval_policy", "updated_at"]
