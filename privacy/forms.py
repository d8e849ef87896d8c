"""The forms of the register (a new request, a note when answering or refusing, the list's filter),
of a retention rule and of a legal hold."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm import widgets
from customers.models import Customer

from .holds import REASON_MAX
from .models import DataRequest, RetentionRule
from .requests import NOTE_MAX


class RequestForm(forms.Form):
    customer_no = forms.CharField(
        label=_("Customer number"), max_length=32, help_text=_("The card the request is about, e.g. C000123.")
    )
    kind = forms.ChoiceField(label=_("Request"), choices=DataRequest.Kind.choices, widget=widgets.Select)
    received_on = forms.DateField(
        label=_("Received on"),
        widget=widgets.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The due date is counted from this day."),
    )
    notes = forms.CharField(
        label=_("How it came in"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Channel and what was asked (letter, e-mail, in store); which fields, for a correction."),
    )

    def __init__(self, *args, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["received_on"].initial = timezone.localdate()
        if customer is not None:
            del self.fields["customer_no"]

    def clean_customer_no(self) -> str:
        number = self.cleaned_data["customer_no"].strip()
        self.customer = Customer.objects.filter(customer_no__iexact=number).first()
        if self.customer is None:
            raise ValidationError(_("No card has the customer number %(number)s.") % {"number": number})
        return self.customer.customer_no

    def clean_received_on(self):
        day = self.cleaned_data["received_on"]
        if day > timezone.localdate():
            raise ValidationError(_("A request cannot be received in the future."))
        return day


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Outcome"), required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class ListFilter(forms.Form):
    SHOW = (
        ("open", pgettext_lazy("personal-data request", "Open")),
        ("overdue", _("Overdue")),
        ("done", _("Answered or refused")),
        ("all", _("All")),
    )
    show = forms.ChoiceField(label=_("Show"), choices=SHOW, required=False, widget=widgets.Select)
    kind = forms.ChoiceField(
        label=_("Request"), choices=[("", _("Any"))] + DataRequest.Kind.choices, required=False, widget=widgets.Select
    )

    def requests(self):
        listed = DataRequest.objects.select_related("identity_checked_by", "done_by")
        data = self.cleaned_data if self.is_valid() else {}
        show = data.get("show") or "open"
        if show == "open":
            listed = listed.open()
        elif show == "overdue":
            listed = listed.overdue()
        elif show == "done":
            listed = listed.closed().order_by("-done_at", "-id")
        if data.get("kind"):
            listed = listed.filter(kind=data["kind"])
        return listed


class RuleForm(forms.ModelForm):
    class Meta:
        model = RetentionRule
        fields = ["after_months", "enabled"]
        widgets = {"after_months": widgets.NumberInput(attrs={"min": 1, "max": 1200}), "enabled": widgets.CheckboxInput}
        help_texts = {
            "after_months": _("Counted from the day the card was closed, voided or archived."),
            "enabled": _("A switched-on rule runs every night, and when an Admin presses Run now."),
        }

    def clean_after_months(self):
        months = self.cleaned_data["after_months"]
        if not 1 <= months <= 1200:
            raise ValidationError(_("Between 1 and 1,200 months, please."))
        return months


class HoldForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A dispute, a tax audit, a court order: why this card's data must be kept."),
    )


class ReleaseForm(forms.Form):
    note = forms.CharField(label=_("Why released"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2}))
