"""The webhook endpoint form: a URL checked against api/ssrf.py, the events and the changed fields it wants."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from customers.gate import CARD_FIELDS
from customers.models import Customer

from . import envelopes, ssrf

EVENT_LABELS = {
    "card.created": _("Card created"),
    "card.updated": _("Card updated"),
    "card.closed": _("Card closed"),
    "card.voided": _("Record voided"),
    "card.archived": _("Card archived"),
    "card.reinstated": _("Card reinstated"),
    "card.erased": _("Personal data erased"),
    "closure.requested": _("Closure requested"),
    "closure.approved": _("Closure approved"),
    "closure.rejected": _("Closure rejected"),
    envelopes.TEST_EVENT: _("Test event"),  # sent from the endpoint's page only, never chosen
}


def _field_label(name: str):
    return Customer._meta.get_field(name).verbose_name


class EndpointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("Which system this is, e.g. Finance."))
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("Where the events are POSTed, e.g. https://finance.example.com/hooks/crm."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(code, EVENT_LABELS[code]) for code in envelopes.TYPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    fields = forms.MultipleChoiceField(
        label=_("Only when these fields change"),
        choices=[(name, _field_label(name)) for name in CARD_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("For “Card updated”: send it only when one of these fields changed. None chosen: every change."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["enabled"] = forms.BooleanField(
                label=_("Enabled"),
                required=False,
                help_text=_("A disabled endpoint is sent nothing; enabling it sends what waited."),
            )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            ssrf.check_url(url)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="ssrf") from None
        return url

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Give the endpoint a name."), code="required")
        return name
