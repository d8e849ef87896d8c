"""A card's balance ledger: its entries, and recording a top-up, a payment or an adjustment."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from crm.pagination import page_of
from crm.permissions import require

from .. import ledger
from ..forms import LedgerEntryForm
from ..models import Customer
from .card import _refuse_unless_active


@require("customers.view_customer", "customers.view_ledgerentry")
def entries(request, pk: int):
    """Every entry of the card's ledger, newest first: how its balance and points came to be."""
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    page = page_of(request, customer.ledger.select_related("by", "counterpart").order_by("-id"), per_page=50)
    return render(request, "customers/ledger.html", {"customer": customer, "page_obj": page})


@require("customers.view_customer", "customers.add_ledgerentry")
def add_entry(request, pk: int):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if refused := _refuse_unless_active(request, customer):
        return refused
    form = LedgerEntryForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            entry = ledger.post(customer, by=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(kind)s recorded.") % {"kind": entry.get_kind_display()})
            return redirect("customers:card", pk=customer.pk)
    context = {"form": form, "customer": customer, "title": _("Record a balance entry")}
    return render(request, "customers/record_form.html", context)
