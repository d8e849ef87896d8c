"""What closures and closure requests look like in the API, and the bodies that close, void, archive,
erase, reinstate and decide (the bodies describe the schema; the closure pages' forms validate them)."""

from __future__ import annotations

from rest_framework import serializers

from closures.models import Action, Closure, ClosureRequest, Settlement

CLOSING = [(a.value, a.label) for a in (Action.CLOSE, Action.VOID, Action.ARCHIVE)]


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


class _Settled(serializers.Serializer):
    settlement = serializers.CharField(help_text="refund, transfer, forfeit, keep, or empty (nothing to settle).")
    settlement_method = serializers.CharField()
    settled_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    settled_points = serializers.IntegerField()
    settled_to = serializers.SerializerMethodField()
    forfeit_reason = serializers.CharField()
    settlement_note = serializers.CharField()

    def get_fields(self):
        """The settlement after the closure's own fields, as a reader expects them."""
        fields = super().get_fields()
        settled = [name for name in _Settled._declared_fields if name in fields]
        return {**{k: v for k, v in fields.items() if k not in settled}, **{k: fields[k] for k in settled}}

    def get_settled_to(self, obj) -> str | None:
        return obj.settled_to.customer_no if obj.settled_to_id else None


class ClosureSerializer(_Settled):
    id = serializers.IntegerField()
    customer = serializers.CharField(source="customer.customer_no", help_text="The card's customer number.")
    customer_status = serializers.CharField(source="customer.status")
    action = serializers.ChoiceField(choices=Action.choices)
    reason = serializers.CharField(source="reason.code")
    reason_label = serializers.CharField(source="reason.label")
    category = serializers.CharField()
    notes = serializers.CharField()
    duplicate_of = serializers.SerializerMethodField()
    merged = serializers.BooleanField()
    previous_status = serializers.CharField()
    balance_at_closure = serializers.DecimalField(max_digits=12, decimal_places=2)
    points_at_closure = serializers.IntegerField()
    performed_at = serializers.DateTimeField()
    performed_by = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()
    reverted_at = serializers.DateTimeField(allow_null=True)
    reverted_by = serializers.SerializerMethodField()
    revert_note = serializers.CharField()
    customer_erased = serializers.BooleanField()

    def get_duplicate_of(self, closure) -> str | None:
        return closure.duplicate_of.customer_no if closure.duplicate_of_id else None

    def get_performed_by(self, closure) -> str:
        return _username(closure.performed_by) or closure.performed_by_name

    def get_requested_by(self, closure) -> str | None:
        return _username(closure.requested_by)

    def get_reverted_by(self, closure) -> str | None:
        return _username(closure.reverted_by)


CLOSURE_RELATED = ("customer", "reason", "duplicate_of", "performed_by", "requested_by", "reverted_by", "settled_to")


def with_related(queryset, related: tuple[str, ...]):
    """``queryset`` reading ``related`` with its rows: the card and the reason joined, the rest (mostly
    empty: a duplicate's survivor, a settlement's card, who reverted) fetched by id afterwards. Joining
    all seven made PostgreSQL spend 30 ms planning the eight-table join for a page of 50 rows."""
    joined = [name for name in related if name in ("customer", "reason")]
    return queryset.select_related(*joined).prefetch_related(*[name for name in related if name not in joined])


class ClosureRequestSerializer(_Settled):
    id = serializers.IntegerField()
    customer = serializers.CharField(source="customer.customer_no")
    action = serializers.ChoiceField(choices=Action.choices)
    reason = serializers.CharField(source="reason.code")
    notes = serializers.CharField()
    duplicate_of = serializers.SerializerMethodField()
    merge = serializers.BooleanField()
    state = serializers.ChoiceField(choices=ClosureRequest.State.choices)
    requested_by = serializers.SerializerMethodField()
    requested_at = serializers.DateTimeField()
    decided_by = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    closure = serializers.IntegerField(source="closure_id", allow_null=True, help_text="The closure an approval made.")
    balance_seen = serializers.DecimalField(max_digits=12, decimal_places=2)
    points_seen = serializers.IntegerField()

    def get_duplicate_of(self, pending) -> str | None:
        return pending.duplicate_of.customer_no if pending.duplicate_of_id else None

    def get_requested_by(self, pending) -> str:
        return _username(pending.requested_by)

    def get_decided_by(self, pending) -> str | None:
        return _username(pending.decided_by)


REQUEST_RELATED = ("customer", "reason", "duplicate_of", "requested_by", "decided_by", "settled_to")


class SettlementInput(serializers.Serializer):
    balance_seen = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text="Required when the card holds a balance or points: the balance you saw. Refused when it changed.",
    )
    points_seen = serializers.IntegerField(required=False, help_text="With balance_seen: the points you saw.")
    updated_at = serializers.CharField(required=False, help_text="The card's version you saw (optional).")
    settlement = serializers.ChoiceField(
        choices=Settlement.choices, required=False, help_text="How a balance or points are settled."
    )
    settlement_method = serializers.CharField(required=False, help_text="A refund's method.")
    refund_amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    settle_to = serializers.CharField(required=False, help_text="A transfer's receiving card (customer number).")
    forfeit_reason = serializers.CharField(required=False)
    settlement_note = serializers.CharField(required=False)


class ClosureCreateSerializer(SettlementInput):
    customer = serializers.CharField(help_text="The card's customer number.")
    action = serializers.ChoiceField(choices=CLOSING)
    reason = serializers.CharField(help_text="An active reason's code meant for this action (GET /reasons/).")
    notes = serializers.CharField(required=False, help_text="Required by some reasons.")
    duplicate_of = serializers.CharField(required=False, help_text="Void as a duplicate: the surviving card.")
    merge = serializers.BooleanField(required=False, help_text="Void as a duplicate: merge into the surviving card.")
    open_tickets = serializers.ChoiceField(
        choices=["resolve", "cancel", "keep"], required=False, help_text="When the card has open tickets."
    )
    tickets_note = serializers.CharField(required=False)


class EraseSerializer(SettlementInput):
    reason = serializers.CharField(help_text="An active reason's code meant for deletion.")
    notes = serializers.CharField(required=False)
    confirmation = serializers.CharField(help_text="The customer number, typed: deletion cannot be undone.")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, help_text="Required to reinstate and to reject.")


__all__ = ["CLOSURE_RELATED", "REQUEST_RELATED", "Closure", "ClosureRequest", "with_related"]
