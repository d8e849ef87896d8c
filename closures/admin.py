"""The Django admin shows closures read-only: statuses change only through the closure operations
(closures/operations.py, erasure.py, bulk.py).

Reasons and the approval setting are editable here as on the app's own pages (same permissions);
nothing can be deleted (a retired reason is made inactive instead).
"""

from django.contrib import admin

from .models import Closure, ClosureReason, ClosureRequest, ClosureSettings


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClosureReason)
class ClosureReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label_en", "label_zh", "category", "is_active", "display_order", "notes_required"]
    list_filter = ["category", "is_active", "for_close", "for_void", "for_archive", "for_erase"]
    search_fields = ["code", "label_en", "label_zh"]
    ordering = ["display_order", "id"]

    def get_readonly_fields(self, request, obj=None):
        # The code is what migrations and analytics key on; it never changes once set.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
class ClosureSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "approval_required", "approval_policy", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
