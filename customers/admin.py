"""The Django admin for customer data: a back office for Admins, not the way staff work.

A card's status changes only through the closure operations, and its purchase figures only
through Customer.record_purchase / record_interaction, so those are read-only here; purchases
and interactions are view-only. Edits made here are audited like edits on the card page.
"""

from django import forms
from django.contrib import admin

from crm import audit

from .forms import CustomerForm, snapshot
from .models import Customer, Interaction, Purchase, Tag
from .phones import normalise_phone


class CustomerAdminForm(forms.ModelForm):
    """The same normalisation as the card's form: E.164 phones, lower-case emails, upper-case numbers."""

    class Meta:
        model = Customer
        fields = [*CustomerForm.Meta.fields, "tags"]

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone", ""))

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean_customer_no(self) -> str:
        return (self.cleaned_data.get("customer_no") or "").strip().upper()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ["customer_no", "name", "phone", "city", "segment", "stage", "status", "updated_at"]
    list_filter = ["status", "segment", "stage"]
    search_fields = ["=customer_no", "name", "=phone", "=email"]
    show_full_result_count = False  # no COUNT(*) over a million rows
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    filter_horizontal = ["tags"]
    readonly_fields = [
        "status",
        "created_at",
        "updated_at",
        "last_interaction_at",
        "last_purchase_on",
        "purchase_count",
        "purchase_total",
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deletion is the erase operation of the closure workflow

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

    def save_model(self, request, obj, form, change):
        # Kept on the request: one ModelAdmin instance serves every request.
        request.customer_before = snapshot(Customer.objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        customer = form.instance
        before = getattr(request, "customer_before", {})
        after = snapshot(customer)
        if not change:
            after = {k: v for k, v in after.items() if v not in (None, "", [])}
        changes = audit.diff(before, after)
        if changes or not change:
            audit.record(
                "customer.update" if change else "customer.create",
                request=request,
                obj=customer,
                customer_id=customer.pk,
                summary=f"{customer.customer_no} {customer.name} (admin)",
                changes=changes,
            )


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
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
