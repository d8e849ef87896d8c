"""The customer card: view, create, edit, log interactions and purchases."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Window
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from crm import audit
from crm.models import AuditEntry
from crm.permissions import require

from ..forms import CustomerForm, InteractionForm, PurchaseForm, snapshot
from ..models import Customer

LATEST_PURCHASES = 10
LATEST_INTERACTIONS = 10
TIMELINE_ENTRIES = 100


def _customer(pk: int, *, lock: bool = False) -> Customer:
    """The card, locked for the rest of the transaction when about to change it."""
    queryset = Customer.objects.select_for_update() if lock else Customer.objects.all()
    return get_object_or_404(queryset, pk=pk)


def _refuse_unless_active(request, customer: Customer) -> HttpResponse | None:
    """Closed, void, archived and erased cards keep their history but take no new changes."""
    if customer.is_active:
        return None
    messages.error(
        request,
        _("This card is %(status)s: only active cards can be edited or have interactions and purchases added.")
        % {"status": customer.get_status_display().lower()},
    )
    return redirect("customers:card", pk=customer.pk)


@require("customers.view_customer")
def card(request, pk: int):
    """The whole card in a fixed number of queries, whatever its history."""
    customer = get_object_or_404(Customer.objects.select_related("owner").prefetch_related("tags"), pk=pk)
    # The latest interactions and how many there are in all, in one query (COUNT(*) OVER ()).
    interactions = customer.interactions.select_related("by").annotate(of_all=Window(Count("pk")))
    latest = list(interactions[:LATEST_INTERACTIONS])
    context = {
        "customer": customer,
        "purchases": list(customer.purchases.select_related("recorded_by")[:LATEST_PURCHASES]),
        "interactions": latest,
        "interaction_count": latest[0].of_all if latest else 0,
        "timeline": list(AuditEntry.objects.for_customer(customer.pk)[:TIMELINE_ENTRIES]),
        "timeline_cap": TIMELINE_ENTRIES,
    }
    return render(request, "customers/card.html", context)


@require("customers.add_customer")
def create(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            customer = form.save()
            values = {k: v for k, v in snapshot(customer).items() if v not in (None, "", [])}
            audit.record(
                "customer.create",
                request=request,
                obj=customer,
                customer_id=customer.pk,
                summary=f"{customer.customer_no} {customer.name}",
                changes=audit.diff({}, values),
            )
        messages.success(request, _("Customer %(number)s created.") % {"number": customer.customer_no})
        return redirect("customers:card", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form})


@require("customers.change_customer")
def edit(request, pk: int):
    with transaction.atomic():
        customer = _customer(pk, lock=request.method == "POST")
        if refused := _refuse_unless_active(request, customer):
            return refused
        before = snapshot(customer)
        form = CustomerForm(request.POST or None, instance=customer)
        if request.method == "POST" and form.is_valid():
            form.save()
            customer.refresh_from_db()
            changes = audit.diff(before, snapshot(customer))
            if changes:
                audit.record(
                    "customer.update",
                    request=request,
                    obj=customer,
                    customer_id=customer.pk,
                    summary=f"{customer.customer_no} {customer.name}",
                    changes=changes,
                )
                messages.success(request, _("Changes to %(number)s saved.") % {"number": customer.customer_no})
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("customers:card", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@require("customers.add_interaction")
def add_interaction(request, pk: int):
    with transaction.atomic():
        customer = _customer(pk, lock=request.method == "POST")
        if refused := _refuse_unless_active(request, customer):
            return refused
        form = InteractionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            interaction = customer.record_interaction(**form.cleaned_data, by=request.user)
            audit.record(
                "interaction.create",
                request=request,
                obj=interaction,
                customer_id=customer.pk,
                summary=f"{interaction.get_kind_display()}: {interaction.summary}",
                changes=audit.diff({}, form.cleaned_data),
            )
            messages.success(request, _("Interaction logged."))
            return redirect("customers:card", pk=customer.pk)
    return render(
        request, "customers/record_form.html", {"form": form, "customer": customer, "title": _("Log interaction")}
    )


@require("customers.add_purchase")
def add_purchase(request, pk: int):
    with transaction.atomic():
        customer = _customer(pk, lock=request.method == "POST")
        if refused := _refuse_unless_active(request, customer):
            return refused
        form = PurchaseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            purchase = customer.record_purchase(**form.cleaned_data, by=request.user)
            audit.record(
                "purchase.create",
                request=request,
                obj=purchase,
                customer_id=customer.pk,
                summary=f"{purchase.product} × {purchase.quantity}: {purchase.amount}",
                changes=audit.diff({}, form.cleaned_data),
            )
            messages.success(request, _("Purchase added."))
            return redirect("customers:card", pk=customer.pk)
    return render(
        request, "customers/record_form.html", {"form": form, "customer": customer, "title": _("Add purchase")}
    )
