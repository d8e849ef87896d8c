"""Forms of the closures app.

Several people edit this file: add forms with small, targeted edits, never by rewriting it.
"""

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers.models import Customer
from customers.numbers import normalise_customer_no

from .models import Action, Category, ClosureReason, ClosureSettings
from .rules import CLOSING_ACTIONS, MAX_NOTES

# --- Reason management and settings (Admin) -------------------------------------------


class ReasonForm(forms.ModelForm):
    class Meta:
        model = ClosureReason
        fields = [
            "label_en",
            "label_zh",
            "category",
            "for_close",
            "for_void",
            "for_archive",
            "for_erase",
            "notes_required",
            "is_active",
            "display_order",
        ]

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"for_{action}") for action in ("close", "void", "archive", "erase")):
            raise forms.ValidationError(_("Choose at least one action this reason applies to."))
        return cleaned

    def save(self, commit=True):
        reason = super().save(commit=False)
        if not reason.code:
            reason.code = self._unique_code(slugify(reason.label_en)[:30] or "reason")
        if commit:
            reason.save()
        return reason

    @staticmethod
    def _unique_code(base: str) -> str:
        code, n = base, 1
        while ClosureReason.objects.filter(code=code).exists():
            n += 1
            code = f"{base}-{n}"
        return code


class ClosureSettingsForm(forms.ModelForm):
    class Meta:
        model = ClosureSettings
        fields = ["approval_required", "approval_policy"]


# --- The closure flow, approval, reinstatement and bulk closures ----------------------------------
# (closures/views/flow.py, requests.py, bulk.py; the operations re-check every rule under a row lock)


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ClosureReason) -> str:
        return obj.label


def _notes_field(label=None, required=False, help_text=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Notes"),
        required=required,
        max_length=MAX_NOTES,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=help_text,
    )


class ClosureStartForm(forms.Form):
    """Step one of close / void / archive / delete: the reason and the notes."""

    reason = ReasonChoiceField(label=_("Reason"), queryset=ClosureReason.objects.none(), empty_label=_("Choose…"))
    notes = _notes_field(help_text=_("Up to 1,000 characters. Some reasons need notes (always “Other”)."))
    duplicate_of = forms.CharField(
        label=_("Surviving card (customer number)"),
        required=False,
        max_length=32,
        help_text=_("Only when voiding a duplicate record: the number of the card that stays."),
    )

    def __init__(self, *args, customer: Customer, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.action = action
        self.fields["reason"].queryset = ClosureReason.objects.active().for_action(action)
        if action != Action.VOID:
            del self.fields["duplicate_of"]

    def clean_duplicate_of(self):
        number = normalise_customer_no(self.cleaned_data["duplicate_of"])
        if not number:
            return None
        survivor = Customer.objects.filter(customer_no=number).first()
        if survivor is None:
            raise forms.ValidationError(_("No card has the customer number %(number)s.") % {"number": number})
        if survivor.pk == self.customer.pk:
            raise forms.ValidationError(_("A card cannot be a duplicate of itself."))
        if not survivor.is_active:
            raise forms.ValidationError(
                _("Card %(number)s is %(status)s; choose the active card that stays.")
                % {"number": number, "status": survivor.get_status_display().lower()}
            )
        return survivor

    def clean(self):
        cleaned = super().clean()
        reason = cleaned.get("reason")
        if reason is None:
            return cleaned
        if reason.requires_notes and not cleaned.get("notes"):
            self.add_error("notes", _("This reason needs notes explaining it."))
        if reason.category == Category.DUPLICATE and "duplicate_of" in self.fields and not cleaned.get("duplicate_of"):
            if not self.has_error("duplicate_of"):
                self.add_error("duplicate_of", _("Give the customer number of the card this one duplicates."))
        elif reason.category != Category.DUPLICATE:
            cleaned["duplicate_of"] = None
        return cleaned


class ClosureConfirmForm(forms.Form):
    """Step two: the impact page. Money needs an acknowledgement; deletion the typed customer number."""

    token = forms.CharField(widget=forms.HiddenInput)
    acknowledge_balance = forms.BooleanField(
        label=_("I understand the card still holds this balance and these points."), required=False
    )
    settlement_note = _notes_field(
        label=_("Settlement note"),
        help_text=_("How the balance and points are settled: refunded, transferred or forfeited, and by whom."),
    )
    confirmation = forms.CharField(
        label=_("Type the customer number to confirm"), required=False, max_length=32, strip=True
    )

    def __init__(self, *args, customer: Customer, action: str, money: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        if not money:
            del self.fields["acknowledge_balance"]
            del self.fields["settlement_note"]
        if action != Action.ERASE:
            del self.fields["confirmation"]
        else:
            self.fields["confirmation"].required = True
            self.fields["confirmation"].widget.attrs["autocomplete"] = "off"

    def clean_confirmation(self):
        typed = self.cleaned_data["confirmation"]
        if typed != self.customer.customer_no:
            raise forms.ValidationError(
                _("Type %(number)s exactly; deletion cannot be undone.") % {"number": self.customer.customer_no}
            )
        return typed

    def clean(self):
        cleaned = super().clean()
        if "acknowledge_balance" in self.fields:
            if not cleaned.get("acknowledge_balance"):
                self.add_error("acknowledge_balance", _("Tick this to confirm you have seen the balance and points."))
            if not cleaned.get("settlement_note") and not self.has_error("settlement_note"):
                self.add_error("settlement_note", _("Write how the balance and points are settled."))
        return cleaned


class ReinstateForm(forms.Form):
    note = _notes_field(label=_("Note"), required=True, help_text=_("Why the card returns to active."))


class DecisionForm(forms.Form):
    """Approve or reject a closure request; the two buttons post ``decision``."""

    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.HiddenInput)
    note = _notes_field(label=_("Note"), help_text=_("Required when rejecting: the requester will see it."))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("note"):
            self.add_error("note", _("Write why the request is rejected; the requester will see it."))
        return cleaned


class BulkForm(forms.Form):
    """One action and one reason for every selected card (the reason list is grouped by action).

    ``money`` is how many of the selected cards are active with a balance or points: then the
    balance acknowledgement is required, as on one card's confirmation, and those cards are closed
    only with a settlement note (without one they are skipped, with the single-card flow's
    reason); with none, neither field is shown.
    """

    selection = forms.CharField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(
        label=_("Reason"), help_text=_("Grouped by action: pick the reason under Close card, Void record or Archive.")
    )
    notes = _notes_field(help_text=_("The same notes go on every closure."))
    acknowledge_balance = forms.BooleanField(required=False)
    settlement_note = _notes_field(
        label=_("Settlement note"),
        help_text=_("Cards with a balance or points are skipped unless you write how they are settled."),
    )

    def __init__(self, *args, money: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = list(ClosureReason.objects.active().exclude(category=Category.DUPLICATE))
        self.reasons = {r.pk: r for r in reasons}
        groups = []
        for action in CLOSING_ACTIONS:
            options = [(f"{action}:{r.pk}", r.label) for r in reasons if r.applies_to(action)]
            if options:
                groups.append((Action(action).label, options))
        self.fields["choice"].choices = [("", _("Choose…")), *groups]
        self.money = money
        if money:
            self.fields["acknowledge_balance"].label = ngettext(
                "I understand %(count)s of these cards still holds a balance or points.",
                "I understand %(count)s of these cards still hold a balance or points.",
                money,
            ) % {"count": money}
        else:
            del self.fields["acknowledge_balance"]
            del self.fields["settlement_note"]

    def clean(self):
        cleaned = super().clean()
        action, _sep, reason_id = (cleaned.get("choice") or "").partition(":")
        reason = self.reasons.get(int(reason_id)) if reason_id.isdigit() else None
        cleaned["action"], cleaned["reason"] = action, reason
        if reason is not None and reason.requires_notes and not cleaned.get("notes"):
            self.add_error("notes", _("This reason needs notes explaining it."))
        if self.money and not cleaned.get("acknowledge_balance"):
            self.add_error("acknowledge_balance", _("Tick this to confirm you have seen the balance and points."))
        return cleaned
