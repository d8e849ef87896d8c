"""What a customer card looks like in the API, and what a client sends to create or change one.

Reads: :class:`CustomerSerializer` (the card, as the card page shows it: contacts in full) and
:class:`CustomerRowSerializer` (a row of the search: phone and email masked as the search page masks
them, unless the caller holds ``customers.view_unmasked_contacts``). Both carry the card's status and
its closure summary: the open closure (action, reason, when, by whom) and a pending closure request.

Writes are validated by the card page's own form (customers.forms.CustomerForm) and written by the
card gate (customers.gate); :class:`CustomerWriteSerializer` only describes the body for the schema.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.templatetags.crm_tags import mask_email, mask_phone
from customers.models import Customer

UNMASKED = "customers.view_unmasked_contacts"


class ClosureSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    reason = serializers.CharField(source="reason.code")
    reason_label = serializers.CharField(source="reason.label")
    category = serializers.CharField()
    performed_at = serializers.DateTimeField()
    performed_by = serializers.SerializerMethodField()

    def get_performed_by(self, closure) -> str:
        user = closure.performed_by
        return user.get_username() if user else closure.performed_by_name


class PendingRequestSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    reason = serializers.CharField(source="reason_id")
    requested_at = serializers.DateTimeField()
    requested_by = serializers.CharField(source="requested_by.username")


class _CardBase(serializers.Serializer):
    customer_no = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Customer.Status.choices)
    phone = serializers.SerializerMethodField(help_text="Masked in lists unless you may see contacts in full.")
    email = serializers.SerializerMethodField(help_text="Masked in lists unless you may see contacts in full.")
    city = serializers.CharField()
    segment = serializers.ChoiceField(choices=Customer.Segment.choices)
    stage = serializers.ChoiceField(choices=Customer.Stage.choices)
    owner = serializers.SerializerMethodField(help_text="The owner's username, or null.")
    tags = serializers.SerializerMethodField()
    purchase_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    last_interaction_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="The card's version: send it back as If-Match to change it.")
    closure = serializers.SerializerMethodField(help_text="The open closure of a closed, void or archived card.")
    pending_request = serializers.SerializerMethodField(help_text="A closure request waiting for a Manager.")

    masked = False

    def _unmasked(self) -> bool:
        return not self.masked or self.context.get("unmasked", False)

    def get_phone(self, card) -> str:
        return card.phone if self._unmasked() else mask_phone(card.phone)

    def get_email(self, card) -> str:
        return card.email if self._unmasked() else mask_email(card.email)

    def get_owner(self, card) -> str | None:
        return card.owner.get_username() if card.owner_id else None

    def get_tags(self, card) -> list[str]:
        return [] if card.is_erased else sorted(tag.name for tag in card.tags.all())

    @extend_schema_field(ClosureSummarySerializer(allow_null=True))
    def get_closure(self, card) -> dict | None:
        closure = self.context.get("closures", {}).get(card.pk)
        return ClosureSummarySerializer(closure).data if closure else None

    @extend_schema_field(PendingRequestSummarySerializer(allow_null=True))
    def get_pending_request(self, card) -> dict | None:
        pending = self.context.get("pending", {}).get(card.pk)
        return PendingRequestSummarySerializer(pending).data if pending else None


class CustomerRowSerializer(_CardBase):
    """A card in a list: contacts masked as the search page masks them."""

    masked = True


class CustomerSerializer(_CardBase):
    """One card, as its page shows it (contacts in full to whoever may read the card)."""

    gender = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    occupation = serializers.CharField()
    company = serializers.CharField()
    title = serializers.CharField()
    wechat = serializers.CharField()
    language = serializers.CharField()
    address = serializers.CharField()
    preferences = serializers.CharField()
    customer_since = serializers.DateField()
    source = serializers.CharField()
    balance = serializers.DecimalField(max_digits=12, decimal_places=2)
    points = serializers.IntegerField()
    purchase_count = serializers.IntegerField()
    last_purchase_on = serializers.DateField(allow_null=True)


class CustomerWriteSerializer(serializers.Serializer):
    """The body of POST (create) and PATCH (change only the fields sent). Validated as the card form validates."""

    customer_no = serializers.CharField(required=False, help_text="Empty on create: the next number is given.")
    name = serializers.CharField(required=False, help_text="Required on create.")
    gender = serializers.ChoiceField(choices=Customer.Gender.choices, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    occupation = serializers.CharField(required=False, allow_blank=True)
    company = serializers.CharField(required=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    wechat = serializers.CharField(required=False, allow_blank=True)
    language = serializers.CharField(required=False, allow_blank=True)
    city = serializers.CharField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    segment = serializers.ChoiceField(choices=Customer.Segment.choices, required=False)
    stage = serializers.ChoiceField(choices=Customer.Stage.choices, required=False)
    owner = serializers.CharField(required=False, allow_null=True, help_text="A username, or null for nobody.")
    customer_since = serializers.DateField(required=False, allow_null=True)
    source = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    preferences = serializers.CharField(required=False, allow_blank=True)
    balance = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, help_text="Create only; Managers and Admins."
    )
    points = serializers.IntegerField(required=False, help_text="Create only; Managers and Admins.")
    save_anyway = serializers.BooleanField(
        required=False, help_text="Another card has this phone or email, and this is a different customer."
    )
    updated_at = serializers.CharField(
        required=False, help_text="PATCH: the version you saw (or send If-Match); a card changed since is refused."
    )
