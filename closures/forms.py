"""Forms of the closures app.

Several people edit this file: add forms with small, targeted edits, never by rewriting it.
"""

from django import forms
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers.models import Customer
from customers.numbers import normalise_customer_no

from . import categories
from . import tickets as ticket_choices
from .models import Action, ClosureReason, ClosureSettings, ReasonCategory
from .rules import CLOSING_ACTIONS, MAX_NOTES
from .settlement_form import add_settlement_fields, clean_settlement

# --- Reason management and settings (Admin) -------------------------------------------

ACTIONS = ("close", "void", "archive", "erase")
NOTES_NEEDED = _("This reason needs notes explaining it.")


def same_label(text: str) -> str:
    """A label as two labels are compared: case and spacing ignored."""
    return " ".join((text or "").split()).casefold()


def check_labels(form: forms.ModelForm, others) -> None:
    """One language is enough, two equal labels are not: ``form`` needs a label in English or
    Chinese, and neither may read like one of ``others`` (objects with label_en and label_zh) in
    the same language, where a missing label reads as the other language's (as it is shown)."""
    cleaned = form.cleaned_data
    if form.has_error("label_en") or form.has_error("label_zh"):
        return
    en, zh = cleaned.get("label_en") or "", cleaned.get("label_zh") or ""
    if not en and not zh:
        form.add_error("label_en", _("Give a label in English or in Chinese (or both)."))
        return
    mine = (same_label(en or zh), same_label(zh or en))
    for other in others:
        theirs = (same_label(other.label_en or other.label_zh), same_label(other.label_zh or other.label_en))
        for name, my_label, their_label in zip(("label_en", "label_zh"), mine, theirs, strict=True):
            field = name if cleaned.get(name) else _other(name)  # a missing label clashes through the other
            if my_label == their_label and not form.has_error(field):
                form.add_error(field, _duplicate_message(other))


def _other(name: str) -> str:
    return "label_zh" if name == "label_en" else "label_en"


def _duplicate_message(other) -> str:
    if other.is_active:
        return _("“%(label)s” already has this label.") % {"label": other.label}
    return _("“%(label)s” (retired) already has this label: reactivate it instead, or choose another label.") % {
        "label": other.label
    }


class ReasonForm(forms.ModelForm):
    """A reason: its labels (one language is enough), category, actions, and whether it needs notes.

    Two reasons for a common action may not share a label: nobody choosing from the list could
    tell them apart, nor could the dashboard's reader.
    """

    category = forms.ChoiceField(label=_("Category"))

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
        help_texts = {
            "notes_required": _(
                "Closing with this reason asks for notes explaining it. Nothing else makes notes required, "
                "not even the category “Other”."
            ),
            "label_zh": _("One language is enough: a missing label shows the other language's."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = (self.instance.category,) if self.instance.pk else ()
        self.fields["category"].choices = [
            ("", _("Choose…")),
            *categories.choices(include_retired=False, keep=current),
        ]

    def clean(self):
        cleaned = super().clean()
        chosen = [action for action in ACTIONS if cleaned.get(f"for_{action}")]
        if not chosen:
            raise forms.ValidationError(_("Choose at least one action this reason applies to."))
        overlapping = Q()
        for action in chosen:
            overlapping |= Q(**{f"for_{action}": True})
        check_labels(self, ClosureReason.objects.filter(overlapping).exclude(pk=self.instance.pk))
        return cleaned

    def save(self, commit=True):
        reason = super().save(commit=False)
        if not reason.code:
            reason.code = self._unique_code(slugify(reason.label_en or reason.label_zh)[:30] or "reason")
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


class CategoryForm(forms.ModelForm):
    """A reason category: its labels (one language is enough, none shared with another category),
    order and whether it is offered. The key is chosen once, at creation."""

    class Meta:
        model = ReasonCategory
        fields = ["key", "label_en", "label_zh", "display_order", "is_active"]
        help_texts = {
            "key": _(
                "How exports and links name the category: lowercase letters, digits, - and _. Left empty, "
                "it is made from the label. It never changes."
            ),
            "label_zh": _("One language is enough: a missing label shows the other language's."),
            "is_active": _("Retired categories are not offered for reasons; old closures keep them."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["key"]
        else:
            self.fields["key"].required = False

    def clean_key(self):
        key = (self.cleaned_data.get("key") or "").lower()
        if key and ReasonCategory.objects.filter(key=key).exists():
            raise forms.ValidationError(_("Another category already has the key “%(key)s”.") % {"key": key})
        return key

    def clean(self):
        cleaned = super().clean()
        check_labels(self, ReasonCategory.objects.exclude(pk=self.instance.pk))
        return cleaned

    def save(self, commit=True):
        category = super().save(commit=False)
        if not category.key:
            base = slugify(category.label_en or category.label_zh).replace("-", "_")[:34] or "category"
            category.key, n = base, 1
            while ReasonCategory.objects.filter(key=category.key).exists():
                n += 1
                category.key = f"{base}_{n}"
        if commit:
            category.save()
        return category


class MergeForm(forms.Form):
    """Merge one category into another (closures.category_ops.merge_categories re-checks it)."""

    target = forms.ModelChoiceField(
        label=_("Merge into"),
        queryset=ReasonCategory.objects.none(),
        empty_label=_("Choose…"),
        help_text=_("Every reason and every closure in this category moves there; this category is retired."),
    )

    def __init__(self, *args, source: ReasonCategory, **kwargs):
        super().__init__(*args, **kwargs)
        targets = ReasonCategory.objects.filter(is_active=True).exclude(pk=source.pk)
        self.fields["target"].queryset = targets.exclude(key=categories.DUPLICATE)
        self.fields["target"].label_from_instance = lambda category: category.label


class ClosureSettingsForm(forms.ModelForm):
    class Meta:
        model = ClosureSettings
        fields = ["approval_required", "approval_policy"]


# --- The closure flow, approval, reinstatement and bulk closures ----------------------------------
# (closures/views/flow.py, requests.py, bulk.py; the operations re-check every rule under a row lock)


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ClosureReason) -> str:
        return obj.label


def mark_notes_required(form: forms.Form, values, *, chosen) -> None:
    """Say on the form which reasons need notes, before anyone posts it: the reason select lists
    them in ``data-notes-required`` (static/js/app.js marks the notes field required and shows
    the hint as one is chosen), and ``form.notes_required`` tells the template whether the reason
    chosen in a posted form needs them (the page asked again shows it without JavaScript)."""
    values = [str(value) for value in values]
    select = form.fields["reason" if "reason" in form.fields else "choice"]
    select.widget.attrs["data-notes-required"] = " ".join(values)
    form.notes_required = chosen is not None and str(chosen) in values
    if form.notes_required:
        notes = form.fields["notes"]
        notes.required = True
        notes.error_messages = {**notes.error_messages, "required": NOTES_NEEDED}


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
    notes = _notes_field(help_text=_("Up to 1,000 characters."))
    duplicate_of = forms.CharField(
        label=_("Surviving card (customer number)"),
        required=False,
        max_length=32,
        help_text=_("Only when voiding a duplicate record: the number of the card that stays."),
    )
    merge = forms.BooleanField(
        label=_("Merge this record into the surviving card"),
        required=False,
        initial=True,
        help_text=_(
            "Moves its purchases, interactions, tags, balance and points, and fills contact details the "
            "surviving card lacks. The next page shows what moves; nothing changes before you confirm."
        ),
    )

    def __init__(self, *args, customer: Customer, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.action = action
        reasons = ClosureReason.objects.active().for_action(action)
        self.fields["reason"].queryset = reasons
        needs_notes = reasons.filter(notes_required=True).values_list("pk", flat=True)
        mark_notes_required(self, needs_notes, chosen=self.data.get("reason") if self.is_bound else None)
        if action != Action.VOID:
            del self.fields["duplicate_of"]
            del self.fields["merge"]

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
        if reason.requires_notes and not cleaned.get("notes") and not self.has_error("notes"):
            self.add_error("notes", NOTES_NEEDED)
        duplicate = reason.category == categories.DUPLICATE
        if duplicate and "duplicate_of" in self.fields and not cleaned.get("duplicate_of"):
            if not self.has_error("duplicate_of"):
                self.add_error("duplicate_of", _("Give the customer number of the card this one duplicates."))
        elif not duplicate:
            cleaned["duplicate_of"] = None
        if not cleaned.get("duplicate_of"):
            cleaned["merge"] = False
        return cleaned


class ClosureConfirmForm(forms.Form):
    """Step two: the impact page. Money needs a settlement (closures/settlement_form.py); deletion
    the typed customer number."""

    token = forms.CharField(widget=forms.HiddenInput)
    settlement_note = _notes_field(label=_("Settlement note"))
    confirmation = forms.CharField(
        label=_("Type the customer number to confirm"), required=False, max_length=32, strip=True
    )

    open_tickets = forms.ChoiceField(
        label=_("The card's open tickets"), choices=ticket_choices.CHOICES, widget=forms.RadioSelect, required=False
    )
    tickets_note = forms.CharField(
        label=_("Note for the tickets"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Written on each ticket resolved or cancelled."),
    )

    def __init__(self, *args, customer: Customer, action: str, money: bool, tickets: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.action = action
        if not tickets:
            del self.fields["open_tickets"], self.fields["tickets_note"]
        if money:
            add_settlement_fields(self, action=action)
        else:
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
        if "settlement" in self.fields:
            clean_settlement(self, cleaned, self.customer, action=self.action)
        if "open_tickets" in self.fields:
            how = cleaned.get("open_tickets")
            if not how:
                self.add_error("open_tickets", _("Choose what happens to the card's open tickets."))
            elif how != ticket_choices.KEEP and not (cleaned.get("tickets_note") or "").strip():
                self.add_error("tickets_note", _("Write the note the tickets are resolved or cancelled with."))
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

    ``money`` is how many of the selected cards are active with a balance or points: then the form
    asks how they are settled (closures/settlement_form.py: refunded in full by one method, or
    forfeited with one reason, or kept when archiving; no transfers in bulk) and refuses to go on
    without an answer; with none, no settlement field is shown.
    """

    selection = forms.CharField(widget=forms.HiddenInput)
    choice = forms.ChoiceField(
        label=_("Reason"), help_text=_("Grouped by action: pick the reason under Close card, Void record or Archive.")
    )
    notes = _notes_field(help_text=_("The same notes go on every closure."))
    settlement_note = _notes_field(label=_("Settlement note"))

    def __init__(self, *args, money: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        reasons = list(ClosureReason.objects.active().exclude(category=categories.DUPLICATE))
        self.reasons = {r.pk: r for r in reasons}
        groups = []
        for action in CLOSING_ACTIONS:
            options = [(f"{action}:{r.pk}", r.label) for r in reasons if r.applies_to(action)]
            if options:
                groups.append((Action(action).label, options))
        self.fields["choice"].choices = [("", _("Choose…")), *groups]
        needs_notes = [f"{a}:{r.pk}" for r in reasons if r.requires_notes for a in CLOSING_ACTIONS if r.applies_to(a)]
        mark_notes_required(self, needs_notes, chosen=self.data.get("choice") if self.is_bound else None)
        self.money = money
        if money:
            add_settlement_fields(self, action=Action.ARCHIVE, bulk=True)  # keep: refused unless archiving
            self.fields["settlement"].label = ngettext(
                "%(count)s of these cards holds a balance or points: how are they settled?",
                "%(count)s of these cards hold a balance or points: how are they settled?",
                money,
            ) % {"count": money}
        else:
            del self.fields["settlement_note"]

    def clean(self):
        cleaned = super().clean()
        action, _sep, reason_id = (cleaned.get("choice") or "").partition(":")
        reason = self.reasons.get(int(reason_id)) if reason_id.isdigit() else None
        cleaned["action"], cleaned["reason"] = action, reason
        if reason is not None and reason.requires_notes and not cleaned.get("notes") and not self.has_error("notes"):
            self.add_error("notes", NOTES_NEEDED)
        if self.money and "settlement" in self.fields:
            clean_settlement(self, cleaned, None, action=action)  # no choice: refused, not settled silently
        return cleaned


class RequestIdsField(forms.Field):
    """The ticked requests of the approval queue (``ids``, one value per checkbox), as primary keys."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        return list(dict.fromkeys(int(v) for v in (value or []) if str(v).isdigit()))


class BatchDecisionForm(DecisionForm):
    """Approve or reject every ticked request of the queue with one note (closures/batch.py)."""

    ids = RequestIdsField(error_messages={"required": _("Tick the requests to approve or reject.")})
