"""Forms for the customer card: the card itself, interactions and purchases.

Each field says what is wrong next to it. ``clean_<field>`` returns domain values
(a normalised phone, an upper-case customer number, a lower-case email).
"""

import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import scopes
from crm import widgets as crm_widgets  # not `widgets`: ModelForm's Meta has its own
from crm.roles import ROLE_NAMES
from crm.widgets import FastModelChoiceField

from . import identity, ledger, since
from .gate import CARD_FIELDS, MONEY_FIELDS, MONEY_PERMISSION
from .models import Customer, Interaction, LedgerEntry, Purchase, Tag, local_today
from .numbers import clean_customer_no
from .phones import normalise_phone

User = get_user_model()

TAG_SEPARATORS = re.compile(r"[,，、;；]")
MAX_TAGS = 20
MAX_DUPLICATES_SHOWN = 10
FIELDSETS = [
    (
        _("Basic information"),
        ["customer_no", "name", "gender", "birth_date", "id_number", "occupation", "company", "title"],
    ),
    (_("Contact information"), ["phone", "email", "wechat", "language", "city", "address"]),
    (_("Classification"), ["segment", "stage", "owner", "customer_since", "source", "tags", "preferences"]),
    (_("Balance and points"), list(MONEY_FIELDS)),
]


def user_label(user) -> str:
    return user.get_full_name() or user.get_username()


def owner_choices(current_owner_id: int | None = None):
    """Active users in a role (plus the card's current owner, so an edit does not lose it)."""
    condition = Q(is_active=True, groups__name__in=ROLE_NAMES)
    if current_owner_id:
        condition |= Q(pk=current_owner_id)
    people = User.objects.filter(condition).distinct().order_by("first_name", "last_name", "username")
    return people.only("id", "username", "first_name", "last_name")  # what a label needs, no more


class OwnerField(FastModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return user_label(obj)


def parse_tags(text: str) -> list[str]:
    """ "VIP, 生日关怀，wholesale" -> ["VIP", "生日关怀", "wholesale"] (duplicates dropped, case-insensitively)."""
    seen, names = set(), []
    for part in TAG_SEPARATORS.split(text or ""):
        name = " ".join(part.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


class CustomerForm(forms.ModelForm):
    """Create or edit a card. Warns about other cards with the same phone or email.

    Duplicates are the main cause of voided records, so when the phone or email already
    belongs to another card the form lists those cards (``self.duplicates``) and saves only
    when "This is a different customer; save anyway" is ticked.
    """

    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separate tags with commas, for example: VIP, newsletter"),
    )
    owner = OwnerField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Nobody"))
    save_anyway = forms.BooleanField(label=_("This is a different customer; save anyway"), required=False)
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = [name for name in CARD_FIELDS if name != "tags"]  # tags: a text field of the form
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "customer_since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "gender": crm_widgets.Select,
            "segment": crm_widgets.Select,
            "stage": crm_widgets.Select,
            "language": crm_widgets.Select,
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "id_number": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "preferences": forms.Textarea(attrs={"rows": 3}),
            "address": forms.TextInput(),
        }
        error_messages = {
            "name": {"required": _("Enter the customer's name.")},
            "email": {"invalid": _("Enter a valid email address, such as name@example.com.")},
            "balance": {"invalid": _("Enter the balance as a number, such as 120.50.")},
            "points": {"invalid": _("Enter the points as a whole number.")},
            "customer_since": {"invalid": _("Enter the date as YYYY-MM-DD, for example 2019-03-21.")},
        }
        help_texts = {
            "customer_since": _("When they became a customer: tenure is counted from this date."),
            "source": _("Where the customer came from: a system migrated from, a store, a campaign."),
            "language": _("The language of the messages the customer receives (closure notice, survey)."),
            "id_number": _("Resident ID card, passport or other document. Stored encrypted, shown masked on the card."),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates: list[Customer] = []
        self.unseen_duplicate = False  # a card outside the user's data scope has the phone or email
        self.user = user
        if self.instance.pk or (user is not None and not user.has_perm(MONEY_PERMISSION)):
            for name in MONEY_FIELDS:  # a ledger (customers.ledger): only a new card's opening balance is typed
                del self.fields[name]
        self.fields["owner"].queryset = owner_choices(self.instance.owner_id)
        self.fields["customer_no"].required = bool(self.instance.pk)
        self.fields["customer_since"].required = False  # empty: today (a new card) or as it was
        self.fields["customer_since"].show_hidden_initial = False  # Django's extra input for a callable default
        self.fields["language"].required = False  # empty: as it was (the default for a new card)
        if not self.instance.pk:
            self.fields["customer_no"].help_text = _("Leave empty to get the next number (C000123).")
        else:
            self.fields["tags"].initial = ", ".join(tag.name for tag in self.instance.tags.all())
            self.fields["version"].initial = self.instance.updated_at.isoformat()

    def fieldsets(self) -> list:
        """(legend, bound fields) groups, in the order the form shows them."""
        groups = [(legend, [self[name] for name in names if name in self.fields]) for legend, names in FIELDSETS]
        return [(legend, fields) for legend, fields in groups if fields]

    # --- one field at a time -------------------------------------------------------------
    def clean_customer_no(self) -> str:
        number = clean_customer_no(self.cleaned_data.get("customer_no"))
        if number and Customer.objects.filter(customer_no__iexact=number).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(
                _("Customer number %(number)s is already used by another card."),
                code="customer_no_taken",
                params={"number": number},
            )
        return number

    def clean_name(self) -> str:
        name = " ".join((self.cleaned_data.get("name") or "").split())
        if not name:
            raise forms.ValidationError(_("Enter the customer's name."), code="required")
        return name

    def clean_birth_date(self):
        born = self.cleaned_data.get("birth_date")
        if born and born > timezone.localdate():
            raise forms.ValidationError(_("The birth date cannot be in the future."), code="birth_future")
        if born and born < dt.date(1900, 1, 1):
            raise forms.ValidationError(_("Enter a birth date after 1 January 1900."), code="birth_too_old")
        return born

    def clean_customer_since(self):
        day = self.cleaned_data.get("customer_since")
        if day is None:
            return self.instance.customer_since if self.instance.pk else local_today()
        problem = since.date_problem(day)
        if not problem and self.instance.pk and day != self.instance.customer_since:
            problem = since.closure_problem(day, since.first_closed_on([self.instance.pk]).get(self.instance.pk))
        if problem:
            raise forms.ValidationError(problem, code="customer_since")
        return day

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or self.instance.language

    def clean_source(self) -> str:
        return " ".join((self.cleaned_data.get("source") or "").split())

    def clean_id_number(self) -> str:
        value = identity.normalise(self.cleaned_data.get("id_number") or "")
        problem = identity.problem(value) if value else ""
        if problem:
            raise forms.ValidationError(problem, code="id_number")
        return value

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone", ""))

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean_balance(self) -> Decimal:
        balance = self.cleaned_data.get("balance")
        if balance is None:
            return Decimal("0.00")
        if balance < 0:
            raise forms.ValidationError(_("The balance cannot be negative."), code="balance_negative")
        return balance.quantize(Decimal("0.01"))

    def clean_points(self) -> int:
        points = self.cleaned_data.get("points")
        if points is None:
            return 0
        if points < 0:
            raise forms.ValidationError(_("Points cannot be negative."), code="points_negative")
        return points

    def clean_tags(self) -> list[str]:
        names = parse_tags(self.cleaned_data.get("tags", ""))
        too_long = [name for name in names if len(name) > Tag._meta.get_field("name").max_length]
        if too_long:
            raise forms.ValidationError(
                _("The tag “%(tag)s” is longer than 40 characters."), code="tag_too_long", params={"tag": too_long[0]}
            )
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(
                _("A card can have at most %(max)d tags."), code="too_many_tags", params={"max": MAX_TAGS}
            )
        return names

    # --- across fields ---------------------------------------------------------------------
    def clean(self):
        cleaned = super().clean()
        self.duplicates = self._find_duplicates(cleaned)
        if (self.duplicates or self.unseen_duplicate) and not cleaned.get("save_anyway"):
            self.add_error(
                "save_anyway",
                forms.ValidationError(
                    _(
                        "Another card already has this phone number or email (listed above). Open it instead, "
                        "or tick this box if this really is a different customer."
                    ),
                    code="duplicate",
                ),
            )
        return cleaned

    def _find_duplicates(self, cleaned) -> list[Customer]:
        """Other cards (not erased) with this phone or email; checked on create and when either changes."""
        if self.instance.pk and not {"phone", "email"} & set(self.changed_data):
            return []
        condition = Q()
        if cleaned.get("phone"):
            condition |= Q(phone=cleaned["phone"])
        if cleaned.get("email"):
            condition |= Q(email__iexact=cleaned["email"])
        if not condition:
            return []
        others = Customer.objects.filter(condition).not_erased().exclude(pk=self.instance.pk)
        if self.user is None or not scopes.is_scoped(self.user):
            return list(others.order_by("customer_no")[:MAX_DUPLICATES_SHOWN])
        # Outside the user's data scope a card is only said to exist: no number, name or contact.
        shown = list(others.filter(scopes.q(self.user)).order_by("customer_no")[:MAX_DUPLICATES_SHOWN])
        self.unseen_duplicate = others.exclude(pk__in=[c.pk for c in shown]).exclude(scopes.q(self.user)).exists()
        return shown

    # --- what the card gate writes -------------------------------------------------------------
    def card_values(self) -> dict:
        """The cleaned card fields for customers.gate (tags as names, the owner as a user or None)."""
        return {name: self.cleaned_data[name] for name in CARD_FIELDS if name in self.fields}

    def save(self, commit: bool = True):
        raise NotImplementedError("Cards are written through customers.gate (create_card, update_card).")


class InteractionForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = ["kind", "occurred_at", "summary", "outcome"]
        widgets = {
            "kind": crm_widgets.Select,
            "occurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "summary": forms.Textarea(attrs={"rows": 4}),
        }
        error_messages = {
            "kind": {"required": _("Choose the type of interaction.")},
            "occurred_at": {
                "required": _("Enter when it happened."),
                "invalid": _("Enter the date and time as YYYY-MM-DD HH:MM."),
            },
            "summary": {"required": _("Write a short summary of the interaction.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_occurred_at(self):
        when = self.cleaned_data.get("occurred_at")
        if when and when > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("An interaction cannot be in the future."), code="future")
        return when

    def clean_summary(self) -> str:
        summary = (self.cleaned_data.get("summary") or "").strip()
        if not summary:
            raise forms.ValidationError(_("Write a short summary of the interaction."), code="required")
        return summary


class PurchaseForm(forms.ModelForm):
    class Meta:
        model = Purchase
        fields = ["product", "quantity", "amount", "purchased_on"]
        widgets = {"purchased_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        error_messages = {
            "product": {"required": _("Enter the product.")},
            "quantity": {"required": _("Enter the quantity."), "invalid": _("Enter the quantity as a whole number.")},
            "amount": {
                "required": _("Enter the amount."),
                "invalid": _("Enter the amount as a number, such as 199.00."),
            },
            "purchased_on": {"required": _("Enter the date of the purchase."), "invalid": _("Enter a valid date.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("purchased_on", timezone.localdate())
            self.initial.setdefault("quantity", 1)

    def clean_product(self) -> str:
        product = " ".join((self.cleaned_data.get("product") or "").split())
        if not product:
            raise forms.ValidationError(_("Enter the product."), code="required")
        return product

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data.get("quantity")
        if quantity is not None and quantity < 1:
            raise forms.ValidationError(_("The quantity must be at least 1."), code="quantity_min")
        return quantity

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data.get("amount")
        if amount is not None and amount < 0:
            raise forms.ValidationError(_("The amount cannot be negative."), code="amount_negative")
        return amount

    def clean_purchased_on(self):
        day = self.cleaned_data.get("purchased_on")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("The purchase date cannot be in the future."), code="future")
        return day


class LedgerEntryForm(forms.Form):
    """A top-up, a payment from the balance or an adjustment (with why), recorded through customers.ledger."""

    kind = forms.ChoiceField(label=_("Type"), widget=crm_widgets.Select)
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        max_digits=12,
        decimal_places=2,
        error_messages={"invalid": _("Enter the amount as a number, such as 120.50.")},
    )
    points = forms.IntegerField(
        label=_("Points"), required=False, error_messages={"invalid": _("Enter the points as a whole number.")}
    )
    method = forms.ChoiceField(
        label=_("Paid by"), required=False, choices=LedgerEntry.Method.choices, widget=crm_widgets.Select
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (kind.value, kind.label) for kind, permission in ledger.USER_KINDS.items() if user.has_perm(permission)
        ]
        self.fields["amount"].help_text = _("An adjustment may be negative (−20.00 takes 20.00 away).")

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        amount, points = cleaned.get("amount") or Decimal(0), cleaned.get("points") or 0
        if not amount and not points and "amount" not in self.errors and "points" not in self.errors:
            self.add_error("amount", _("Enter an amount or a number of points."))
        elif kind != LedgerEntry.Kind.ADJUSTMENT and (amount < 0 or points < 0):
            self.add_error("amount", _("Enter the amount and points as positive numbers."))
        if kind == LedgerEntry.Kind.ADJUSTMENT and not (cleaned.get("note") or "").strip():
            self.add_error("note", _("Write why the balance or points are adjusted."))
        return cleaned


class ContactPreferencesForm(forms.Form):
    """What the customer allows on each channel, how marketing consent was given, the language for messages.

    The fields are ``<channel>_service``, ``<channel>_marketing`` and ``<channel>_do_not_contact`` for
    each channel (customers.models.ContactConsent.Channel), ``how`` and ``language``. ``how`` is
    required when surveys and offers are turned on for a channel. The language changes only on an
    active card (the card gate's rule): on another card it is shown, disabled, with why.
    """

    NAMES = ("service", "marketing", "do_not_contact")

    how = forms.CharField(
        label=_("How was consent given?"),
        required=False,
        max_length=200,
        help_text=_("Required when you turn on surveys and offers, for example: signed form in store."),
    )
    language = forms.ChoiceField(label=_("Language for messages"), widget=crm_widgets.Select)

    def __init__(self, *args, customer: Customer, consents: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.consents = consents
        labels = {
            "service": _("Service messages"),
            "marketing": _("Surveys and offers"),
            "do_not_contact": _("Do not contact"),
        }
        for channel, consent in consents.items():
            for name in self.NAMES:
                self.fields[f"{channel}_{name}"] = forms.BooleanField(
                    label=labels[name], required=False, initial=getattr(consent, name)
                )
        self.fields["language"].choices = settings.LANGUAGES
        self.fields["language"].initial = customer.language
        if not customer.is_active:
            self.fields["language"].disabled = True
            self.fields["language"].help_text = _(
                "The card is %(status)s: its language for messages can be changed only after it is reinstated."
            ) % {"status": customer.get_status_display().lower()}

    def channels(self) -> list:
        """(channel label, [bound fields]) per channel, for the template."""
        return [
            (consent.get_channel_display(), [self[f"{channel}_{name}"] for name in self.NAMES])
            for channel, consent in self.consents.items()
        ]

    def clean(self):
        cleaned = super().clean()
        turned_on = [c for c, old in self.consents.items() if cleaned.get(f"{c}_marketing") and not old.marketing]
        cleaned["how"] = " ".join((cleaned.get("how") or "").split())
        if turned_on and not cleaned["how"]:
            self.add_error(
                "how", _("Say how the customer gave consent to surveys and offers, for example: signed form in store.")
            )
        return cleaned

    def channel_values(self) -> dict[str, dict]:
        return {c: {name: self.cleaned_data[f"{c}_{name}"] for name in self.NAMES} for c in self.consents}

    def language_value(self) -> str | None:
        return None if self.fields["language"].disabled else self.cleaned_data["language"]
