"""Merging a duplicate card into the card that survives it (合并): what moves, and moving it.

Voiding a record as a duplicate may merge it: everything the duplicate holds moves onto the
surviving card, so the customer's history is in one place.

    plan(duplicate, survivor) -> MergePlan
        what a merge would move, read without writing: the confirmation page shows it.
    merge_into(locked_duplicate, locked_survivor, *, by, request=None) -> MergeResult
        the moves themselves, inside the caller's transaction, on both cards locked by the caller
        (the closure operations lock them together, in primary-key order, through
        ``Customer.objects.lock``), just before the duplicate is voided.

What moves:

- every purchase and interaction: one UPDATE per table, however many there are (a customer may
  have thousands), never row by row;
- the tags: the survivor gets the union, the duplicate keeps none;
- contact fields the survivor lacks (:data:`FILLED_FIELDS`): only where the survivor's is empty,
  so nothing the survivor already says is overwritten; the duplicate keeps its own values;
- balance and points: one transfer in the ledger (customers.ledger.transfer: TRANSFER_OUT on the
  duplicate, TRANSFER_IN on the survivor, each audited), only when there is something to move.
  The transfer is the settlement of the duplicate's money.

- whatever a higher app registered with :func:`register_mover` (service: the tickets), so no
  record of a later floor stays stranded on the merged-away card; customers cannot import them.

Then the purchase figures and "last interaction" of both cards are recounted from their rows
(Count, Sum, Max), so the survivor's totals equal a recount and the duplicate's are zero.

The gate's rules hold (customers.gate): both cards must be active (gate.status_refusal), the
values are snapshotted and diffed as the gate does, and each card gets one audit entry: on the
survivor "customer.merge_in" with its changed fields old → new and what moved from which card, on
the duplicate "customer.merge_out" naming where it went. Nothing moves back when the void record is
reinstated: the merge is final, as a settlement is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Sum
from django.utils.translation import gettext as _

from crm import audit

from . import events, gate, identity, ledger, places
from .models import Customer, Interaction, LedgerEntry, Purchase

# The contact and personal fields a merge fills on the survivor where its own are empty.
FILLED_FIELDS = (
    "phone",
    "email",
    "wechat",
    "city",
    "address",
    "company",
    "title",
    "birth_date",
    "gender",
    "occupation",
)
# Higher apps' movers: fn(locked_duplicate, locked_survivor, *, by, request) -> dict of what moved.
MOVERS: list = []


def register_mover(mover) -> None:
    """A higher app moves its own records of a merged duplicate (called in its AppConfig.ready)."""
    if mover not in MOVERS:
        MOVERS.append(mover)


COUNTERS = ("purchase_count", "purchase_total", "last_purchase_on", "last_interaction_at")


@dataclass(frozen=True)
class MergePlan:
    """What merging ``duplicate`` into ``survivor`` moves (read at the time of :func:`plan`)."""

    duplicate: Customer
    survivor: Customer
    purchases: int
    purchase_total: Decimal
    interactions: int
    tags: list[str]  # the tags the survivor gains, by name
    fields: dict[str, Any]  # field -> the duplicate's value, where the survivor's is empty
    balance: Decimal
    points: int

    @property
    def moves_money(self) -> bool:
        return bool(self.balance or self.points)

    @property
    def filled(self) -> list[tuple[str, Any]]:
        """(label, value) of each field filled, for the confirmation page."""
        labels = {f.name: f.verbose_name for f in Customer._meta.fields}
        shown = {"gender": self.duplicate.get_gender_display()}
        return [(str(labels[name]).capitalize(), shown.get(name, value)) for name, value in self.fields.items()]

    def moved(self) -> dict[str, Any]:
        """What moved, as the audit entries store it (data, not words)."""
        data: dict[str, Any] = {
            "purchases": self.purchases,
            "purchase_total": str(self.purchase_total),
            "interactions": self.interactions,
        }
        if self.tags:
            data["tags"] = self.tags
        if self.fields:
            data["fields"] = list(self.fields)
        if self.moves_money:
            data["balance"] = str(self.balance)
            data["points"] = self.points
        return data


@dataclass
class MergeResult:
    """What :func:`merge_into` did: the plan it carried out, the survivor's changes, the transfer."""

    plan: MergePlan
    changes: dict[str, list] = field(default_factory=dict)
    transfer: tuple[LedgerEntry, LedgerEntry] | None = None


def _empty(value) -> bool:
    return value is None or value == ""


def plan(duplicate: Customer, survivor: Customer) -> MergePlan:
    """What a merge of ``duplicate`` into ``survivor`` would move; writes nothing (a fixed number of queries)."""
    bought = Purchase.objects.filter(customer_id=duplicate.pk).aggregate(n=Count("id"), total=Sum("amount"))
    have = survivor.tags.values_list("pk", flat=True)
    gained = duplicate.tags.exclude(pk__in=list(have)).order_by("name").values_list("name", flat=True)
    fields = {
        name: getattr(duplicate, name)
        for name in FILLED_FIELDS
        if _empty(getattr(survivor, name)) and not _empty(getattr(duplicate, name))
    }
    return MergePlan(
        duplicate=duplicate,
        survivor=survivor,
        purchases=bought["n"],
        purchase_total=(bought["total"] or Decimal(0)).quantize(Decimal("0.01")),
        interactions=Interaction.objects.filter(customer_id=duplicate.pk).count(),
        tags=list(gained),
        fields=fields,
        balance=duplicate.balance,
        points=duplicate.points,
    )


def merge_into(locked_duplicate: Customer, locked_survivor: Customer, *, by, request=None) -> MergeResult:
    """Move everything ``locked_duplicate`` holds onto ``locked_survivor``; both locked, in the caller's transaction.

    Refused (ValidationError) when either card is not active or they are the same card. The
    duplicate stays active: the caller (closures.operations) voids it next, in the same transaction.
    """
    dup, survivor = locked_duplicate, locked_survivor
    if dup.pk == survivor.pk:
        raise ValidationError(_("A card cannot be merged into itself."), code="duplicate")
    for card in (dup, survivor):
        refusal = gate.status_refusal(card.status, card.customer_no)
        if refusal:
            raise ValidationError(refusal, code="not_active")
    merge_plan = plan(dup, survivor)
    transfer = None
    if merge_plan.moves_money:
        note = f"{dup.customer_no} → {survivor.customer_no}"
        transfer = ledger.transfer(dup, survivor, by=by, note=note, request=request)
    dup_before, survivor_before = _state(dup), _state(survivor)
    Purchase.objects.filter(customer_id=dup.pk).update(customer_id=survivor.pk)
    Interaction.objects.filter(customer_id=dup.pk).update(customer_id=survivor.pk)
    moving_tags = list(dup.tags.all())
    if moving_tags:
        survivor.tags.add(*moving_tags)
        dup.tags.clear()
    for name, value in merge_plan.fields.items():
        setattr(survivor, name, value)
    _recount(survivor, extra=list(merge_plan.fields))
    _recount(dup)
    places.note(city=survivor.city if "city" in merge_plan.fields else "", source="")
    moved = merge_plan.moved()
    for mover in MOVERS:
        moved.update(mover(dup, survivor, by=by, request=request))
    survivor_changes = audit.diff(survivor_before, _state(survivor))
    _record(
        "customer.merge_in", survivor, survivor_changes, {"merged_from": dup.customer_no, "moved": moved}, by, request
    )
    dup_changes = audit.diff(dup_before, _state(dup))
    _record("customer.merge_out", dup, dup_changes, {"merged_into": survivor.customer_no, "moved": moved}, by, request)
    return MergeResult(merge_plan, survivor_changes, transfer)


def _state(card: Customer) -> dict[str, Any]:
    """The card's values as the gate's audit entries record them, with its purchase figures."""
    values = gate.snapshot(card)
    del values["balance"], values["points"]  # the ledger's transfer entries record these
    for name in COUNTERS:
        values[name] = getattr(card, name)
    if values["purchase_total"] is not None:
        values["purchase_total"] = Decimal(values["purchase_total"]).quantize(Decimal("0.01"))
    return values


def _recount(card: Customer, *, extra: list[str] = ()) -> None:
    """Recount the card's purchase figures and last interaction from its rows; save them with ``extra`` fields."""
    bought = card.purchases.aggregate(n=Count("id"), total=Sum("amount"), last=Max("purchased_on"))
    card.purchase_count = bought["n"]
    card.purchase_total = bought["total"] or Decimal(0)
    card.last_purchase_on = bought["last"]
    card.last_interaction_at = card.interactions.aggregate(last=Max("occurred_at"))["last"]
    columns = [*extra, *COUNTERS, "updated_at"]
    if "phone" in extra:
        columns.append("phone_rev")
    card.save(update_fields=columns)


def _record(action: str, card: Customer, changes: dict, data: dict, by, request) -> None:
    """The card's audit entry, and its ``card.updated`` event (customers.events) when something changed."""
    entry = audit.record(
        action,
        actor=by,
        request=request,
        obj=card,
        customer_id=card.pk,
        summary=f"{card.customer_no} {card.name}",
        changes=identity.audited(changes),
        data=data,
    )
    events.announce("card.updated", card.pk, entry, by=by)
