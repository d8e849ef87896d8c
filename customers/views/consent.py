"""Contact preferences and consent on the card: what the customer allows on each channel, and the
language of their messages. Editable on every card that still has its personal data (a customer
may unsubscribe after leaving); an erased card is refused (customers.consent)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from crm.permissions import require

from .. import consent, gate
from ..forms import ContactPreferencesForm
from ..models import Customer


@require("customers.change_contactconsent")
def edit(request, pk: int):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if customer.is_erased:
        messages.error(request, gate.status_refusal(customer.status, customer.customer_no))
        return redirect("customers:card", pk=customer.pk)
    form = ContactPreferencesForm(request.POST or None, customer=customer, consents=consent.consents_of(customer))
    if request.method == "POST" and form.is_valid():
        try:
            changed = consent.save_preferences(
                customer,
                form.channel_values(),
                by=request.user,
                source=gate.FORM,
                request=request,
                how=form.cleaned_data["how"],
                language=form.language_value(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            saved = _("Contact preferences of %(number)s saved.") % {"number": customer.customer_no}
            messages.success(request, saved) if changed else messages.info(request, _("Nothing was changed."))
            return redirect("customers:card", pk=customer.pk)
    return render(request, "customers/consent_form.html", {"form": form, "customer": customer})
