"""The customer card: view, create, edit, log interactions and purchases."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Window
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from crm.audit_display import describe
from crm.models import AuditEntry
from crm.permissions import require

from .. import consent, gate, ledger, panels
from ..forms import CustomerForm, InteractionForm, PurchaseForm
from ..models import Customer

LATEST_PURCHASES = 10
LATEST_INTERACTIONS = 10
LATEST_LEDGER_ENTRIES = 10
TIMELINE_ENTRIES = 100


def _refuse_unless_active(request, customer: Customer) -> HttpResponse | None:
    """Closed, void, archived and erased cards keep their history but take no new changes (customers.gate)."""
    refusal = gate.status_refusal(customer.status, customer.customer_no)
    if not refusal:
        return None
    messages.error(request, refusal)
    return redirect("customers:card", pk=customer.pk)


def _refused(request, customer: Customer, error: ValidationError) -> HttpResponse:
    """The gate refused the change (the card was closed meanwhile, say): its message, on the card."""
    messages.error(request, " ".join(error.messages))
    return redirect("customers:card", pk=customer.pk)


@require("customers.view_customer")
def card(request, pk: int):
    """The whole card in a fixed number of queries, whatever its history."""
    cards = Customer.objects.visible_to(request.user).select_related("owner", "import_batch").prefetch_related("tags")
    customer = get_object_or_404(cards, pk=pk)
    # The latest interactions and how many there are in all, in one query (COUNT(*) OVER ()).
    interactions = customer.interactions.select_related("by").annotate(of_all=Window(Count("pk")))
    latest = list(interactions[:LATEST_INTERACTIONS])
    context = {
        "customer": customer,
        "purchases": list(customer.purchases.select_related("recorded_by")[:LATEST_PURCHASES]),
        "ledger": ledger.recent(customer, LATEST_LEDGER_ENTRIES),
        "interactions": latest,
        "interaction_count": latest[0].of_all if latest else 0,
        # In the reader's language, contacts in full: the card shows them to whoever may read it.
        "timeline": describe(AuditEntry.objects.for_customer(customer.pk)[:TIMELINE_ENTRIES], unmasked=True),
        "timeline_cap": TIMELINE_ENTRIES,
        "card_panels": panels.panels_for(request, customer),  # what higher apps add (customers.panels)
        "card_actions": panels.actions_for(request, customer),  # their links in the Actions menu
        "consents": _consents(request, customer),
    }
    return render(request, "customers/card.html", context)


def _consents(request, customer: Customer) -> list:
    """The customer's contact preferences per channel, in one query, for readers allowed to see them."""
    if customer.is_erased or not request.user.has_perm("customers.view_contactconsent"):
        return []
    return list(consent.consents_of(customer).values())


@require("customers.add_customer")
def create(request):
    form = CustomerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            customer = gate.create_card(form.card_values(), by=request.user, source=gate.FORM, request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Customer %(number)s created.") % {"number": customer.customer_no})
            return redirect("customers:card", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form})


@require("customers.change_customer")
def edit(request, pk: int):
    customer = get_object_or_404(Customer.objects.visible_to(request.user).select_related("owner"), pk=pk)
    if refused := _refuse_unless_active(request, customer):
        return refused
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            change = gate.update_card(
                customer, form.card_values(), by=request.user, source=gate.FORM, seen=form.cleaned_data["version"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            saved = _("Changes to %(number)s saved.") % {"number": customer.customer_no}
            messages.success(request, saved) if change.changes else messages.info(request, _("Nothing was changed."))
            return redirect("customers:card", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@require("customers.add_interaction")
def add_interaction(request, pk: int):
    return _record_on_card(
        request, pk, InteractionForm, gate.record_interaction, _("Log interaction"), _("Interaction logged.")
    )


@require("customers.add_purchase")
def add_purchase(request, pk: int):
    return _record_on_card(request, pk, PurchaseForm, gate.record_purchase, _("Add purchase"), _("Purchase added."))


def _record_on_card(request, pk: int, form_class, record, title: str, done: str) -> HttpResponse:
    """A purchase or an interaction added to an active card through the card gate."""
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if refused := _refuse_unless_active(request, customer):
        return refused
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record(customer, by=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            return _refused(request, customer, error)
        messages.success(request, done)
        return redirect("customers:card", pk=customer.pk)
    return render(request, "customers/record_form.html", {"form": form, "customer": customer, "title": title})
