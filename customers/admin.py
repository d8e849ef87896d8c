"""The Django admin shows customer data read-only: a window for diagnosis, not a way to work.

Cards change only through the card gate (customers/gate.py: locked, checked, audited per card) and
their statuses only through the closure operations, so nothing here can add, change or delete a
customer, a purchase, an interaction or a tag (renaming a tag here would change every card that
carries it without a word in their histories). Admins work on the CRM's own pages.
"""

from django.contrib import admin

from crm.admin import ReadOnlyAdmin

from .models import Customer, Interaction, Purchase, Tag
from .phones import normalise_phone


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["customer_no", "name", "city", "segment", "stage", "status", "updated_at"]
    list_filter = ["status", "segment", "stage"]
    search_fields = ["=customer_no", "name"]
    show_full_result_count = False  # no COUNT(*) over a million rows
    list_select_related = ["owner"]

    def get_search_results(self, request, queryset, search_term):
        """A phone typed in any format matches its normalised form."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            phone = normalise_phone(search_term)
        except Exception:
            phone = ""
        if phone:
            queryset |= self.model.objects.filter(phone=phone)
        return queryset, may_have_duplicates


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ["customer", "product", "quantity", "amount", "purchased_on"]
    list_select_related = ["customer"]
    search_fields = ["=customer__customer_no", "product"]
    show_full_result_count = False
    date_hierarchy = "purchased_on"


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ["customer", "kind", "occurred_at", "by", "outcome"]
    list_select_related = ["customer", "by"]
    list_filter = ["kind"]
    search_fields = ["=customer__customer_no", "summary"]
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ["name"]
    search_fields = ["name"]
