"""The card gate: the one way a customer card's fields change.

Whatever changes a card — the card form, an import, a purchase or an interaction recorded on it,
and every later feature — goes through these functions, and statuses change only through the
closure operations (closures/operations.py, erasure.py, bulk.py). So the rules live in one place:

- the card row is locked (``select_for_update``) and re-read before anything is checked, so two
  changes of the same card are served one after the other and none overwrites the other unseen;
- only active cards change: a closed, void or archived card is refused ("reinstate it first"), an
  erased card always ("its personal data was deleted");
- "customer since" is a date the customer can have had: not in the future, not before 1900, not
  after the card's first closure (customers.since, the card form's and the import's rule too);
- where the editor saw a version of the card (its ``updated_at`` when the form was opened), a card
  changed since is refused, not silently merged;
- balance and points are a ledger (customers.ledger): an existing card's change only through
  entries (top-up, payment, adjustment with a reason, settlement, transfer), never by setting them
  here; a new card may start with a balance (an opening entry), set by users allowed to
  (``customers.change_balance``);
- every change writes one audit entry per card with its old and new values and its source (the
  form, an import file and its line), so the card's history shows it and erasure can find every
  value the card ever had; the ID document number only masked (customers.identity.audited): the
  trail is not encrypted;
- a card created or changed is also an event in the outbox (customers.events: ``card.created``,
  ``card.updated``), written in the same transaction: the changed fields' names and the audit
  entry's id, never personal data (a webhook reads the values from the entry after the commit).

    create_card(values, *, by, source, request=None) -> Customer
    update_card(customer, changes, *, by, source, seen=None, request=None) -> CardChange
    record_purchase(customer, *, by, product, quantity, amount, purchased_on, request=None) -> Purchase
    record_interaction(customer, *, by, kind, occurred_at, summary, outcome="", request=None) -> Interaction

Imports write thousands of cards per statement through customers.batch (the same rules: each
existing card checked with :func:`status_refusal`, one audit entry per card).
``by=None`` means the system itself (a data migration): no permission is checked, the audit entry
names no user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit

from . import events, identity, ledger, owners, places, since
from .models import Customer, Interaction, LedgerEntry, Purchase, Tag
from .numbers import clean_customer_no, next_customer_no

# The card's own fields, in the order the form shows them; the audit trail records these.
CARD_FIELDS = (
    "customer_no",
    "name",
    "gender",
    "birth_date",
    "occupation",
    "company",
    "title",
    "id_number",
    "phone",
    "email",
    "wechat",
    "language",
    "city",
    "address",
    "segment",
    "stage",
    "owner",
    "customer_since",
    "source",
    "tags",
    "preferences",
    "balance",
    "points",
)
MONEY_FIELDS = ("balance", "points")
MONEY_PERMISSION = "customers.change_balance"
NEW_NUMBER_ATTEMPTS = 5


@dataclass(frozen=True)
class Source:
    """Where a change comes from, as the card's history names it: the form, an import file's line..."""

    kind: str
    file: str = ""
    line: int | None = None
    batch: int | None = None  # the ImportBatch of an import

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.file:
            data["file"] = self.file
        if self.line is not None:
            data["line"] = self.line
        if self.batch is not None:
            data["batch"] = self.batch
        return data


FORM = Source("form")


@dataclass
class CardChange:
    """What :func:`update_card` did: the card as it is now and ``{field: [old, new]}`` (empty: nothing)."""

    customer: Customer
    changes: dict[str, list] = field(default_factory=dict)


# --- The rules -------------------------------------------------------------------------------------


def status_refusal(status: str, number: str) -> str:
    """Why a card in ``status`` cannot be changed ("" when it can): the one wording of the rule."""
    if status == Customer.Status.ACTIVE:
        return ""
    if status == Customer.Status.ERASED:
        return _("The personal data of card %(number)s was deleted; the card can never be changed again.") % {
            "number": number
        }
    label = Customer.Status(status).label.lower()
    return _("Card %(number)s is %(status)s: reinstate it first to change it.") % {"number": number, "status": label}


def lock_for_change(customer) -> Customer:
    """The card, locked until the transaction ends and re-read; ValidationError unless it is active."""
    pk = getattr(customer, "pk", customer)
    locked = Customer.objects.select_for_update().get(pk=pk)
    refusal = status_refusal(locked.status, locked.customer_no)
    if refusal:
        raise ValidationError(refusal, code="erased" if locked.is_erased else "not_active")
    return locked


def check_allowed(by, names, *, adding: bool) -> None:
    """The user may create (or change) cards, and touch balance and points if ``names`` include them."""
    if by is None:
        return
    if not by.has_perm("customers.add_customer" if adding else "customers.change_customer"):
        raise ValidationError(_("You are not allowed to change customer cards."), code="permission")
    if set(names) & set(MONEY_FIELDS) and not by.has_perm(MONEY_PERMISSION):
        raise ValidationError(
            _("Only a Manager or an Admin can change a card's balance and points."), code="permission"
        )


def check_seen(locked: Customer, seen: str | None) -> None:
    """Refuse when the card changed after the editor opened it (``seen`` is its ``updated_at`` then)."""
    if seen and seen != locked.updated_at.isoformat():
        raise ValidationError(
            _(
                "Someone else changed this card after you opened it. "
                "Open the card again to see their change, then make yours."
            ),
            code="stale",
        )


def snapshot(customer: Customer) -> dict[str, Any]:
    """The card's own values as the audit trail records them (the owner by username, tags by name)."""
    values = {name: getattr(customer, name) for name in CARD_FIELDS if name not in ("tags", "owner")}
    values["owner"] = customer.owner.get_username() if customer.owner_id else None
    values["tags"] = sorted(tag.name for tag in customer.tags.all()) if customer.pk else []
    if values["balance"] is not None:
        values["balance"] = Decimal(values["balance"]).quantize(Decimal("0.01"))
    return values


def tags_for(names: list[str]) -> list[Tag]:
    """The Tag rows for these names, matching existing tags case-insensitively, creating the rest."""
    tags = []
    for name in names:
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            tag, _created = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    return tags


def _number_taken(number: str) -> ValidationError:
    return ValidationError(
        {
            "customer_no": ValidationError(
                _("Customer number %(number)s is already used by another card."),
                code="customer_no_taken",
                params={"number": number},
            )
        }
    )


def _record(action: str, customer: Customer, changes: dict, *, by, source: Source, request=None):
    return audit.record(
        action,
        actor=by,
        request=request,
        obj=customer,
        customer_id=customer.pk,
        summary=f"{customer.customer_no} {customer.name}",
        changes=changes,
        data={"source": source.as_data()},
    )


# --- One card --------------------------------------------------------------------------------------


def create_card(values: dict[str, Any], *, by, source: Source, request=None) -> Customer:
    """A new active card from ``values`` (card fields; ``tags`` as names, ``owner`` as a user or None).

    Without a customer number the next generated one is given (customers.numbers); a number typed
    in any case is stored in its canonical form and refused when another card has it.
    """
    unknown = set(values) - set(CARD_FIELDS)
    if unknown:
        raise ValueError(f"not card fields: {sorted(unknown)}")
    with transaction.atomic():
        check_allowed(by, [name for name in values if values[name] not in (None, 0, Decimal(0))], adding=True)
        if values.get("customer_since") is not None:
            since.check(values["customer_since"])
        number = clean_customer_no(values.get("customer_no"))
        customer = Customer(**{k: v for k, v in values.items() if k not in ("customer_no", "tags")})
        customer.id_number = identity.normalise(customer.id_number)
        for attempt in range(NEW_NUMBER_ATTEMPTS):
            customer.customer_no = number or next_customer_no()
            try:
                with transaction.atomic():
                    customer.save(force_insert=True)
                break
            except IntegrityError:
                if not Customer.objects.filter(customer_no__iexact=customer.customer_no).exists():
                    raise
                if number or attempt == NEW_NUMBER_ATTEMPTS - 1:
                    raise _number_taken(customer.customer_no) from None
                customer.pk = None
        if values.get("tags"):
            customer.tags.set(tags_for(values["tags"]))
        LedgerEntry.objects.bulk_create(ledger.opening_entries([customer], by=by, note=""))
        after = {k: v for k, v in snapshot(customer).items() if v not in (None, "", [])}
        places.note(city=customer.city, source=customer.source)
        changes = identity.audited(audit.diff({}, after))
        entry = _record("customer.create", customer, changes, by=by, source=source, request=request)
        events.announce("card.created", customer.pk, entry, by=by)
    return customer


def update_card(
    customer, changes: dict[str, Any], *, by, source: Source, seen: str | None = None, request=None
) -> CardChange:
    """Change an active card's fields (``changes``: card fields to their new values, as create_card).

    Values equal to the card's are left alone; when nothing differs, nothing is written. Returns
    the card as it is now with ``{field: [old, new]}`` of what changed, also in its audit entry.
    """
    unknown = set(changes) - set(CARD_FIELDS)
    if unknown:
        raise ValueError(f"not card fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = lock_for_change(customer)
        _refuse_money_changes(locked, changes)
        check_seen(locked, seen)
        before, owner_before = snapshot(locked), locked.owner_id
        if "customer_no" in changes:
            changes = {**changes, "customer_no": clean_customer_no(changes["customer_no"]) or locked.customer_no}
        if changes.get("id_number"):
            changes = {**changes, "id_number": identity.normalise(changes["id_number"])}
        for name, value in changes.items():
            if name != "tags":
                setattr(locked, name, value)
        after = snapshot(locked)
        tags = tags_for(changes["tags"] or []) if "tags" in changes else None
        if tags is not None:  # as stored: "vip" typed is the existing tag "VIP"
            after["tags"] = sorted(tag.name for tag in tags)
        diff = identity.audited(audit.diff(before, after))  # compared in clear, recorded masked
        if not diff:
            return CardChange(locked)
        check_allowed(by, diff, adding=False)
        if "customer_since" in diff:  # not after the card's first closure: tenure cannot be negative
            since.check(locked.customer_since, locked.pk)
        places.note(city=locked.city if "city" in diff else "", source=locked.source if "source" in diff else "")
        _save_fields(locked, [name for name in diff if name != "tags"])
        if "customer_since" in diff:
            since.changed([locked.pk])
        if "owner" in diff:
            owners.changed({locked.pk: (owner_before, locked.owner_id)})
        if "tags" in diff:
            locked.tags.set(tags)
        entry = _record("customer.update", locked, diff, by=by, source=source, request=request)
        events.announce("card.updated", locked.pk, entry, by=by)
    return CardChange(locked, diff)


def _refuse_money_changes(locked: Customer, changes: dict[str, Any]) -> None:
    """Balance and points of an existing card move only through the ledger (customers.ledger)."""
    for name in MONEY_FIELDS:
        if name in changes and changes[name] is not None and changes[name] != getattr(locked, name):
            raise ValidationError(
                {
                    name: ValidationError(
                        _("The balance and points change only through balance entries (top-up, payment, adjustment)."),
                        code="ledger",
                    )
                }
            )


def _save_fields(locked: Customer, names: list[str]) -> None:
    columns = ["owner" if name == "owner" else name for name in names]
    if "phone" in columns:
        columns.append("phone_rev")
    if "id_number" in columns:
        columns.append("id_number_hash")
    try:
        with transaction.atomic():
            locked.save(update_fields=[*columns, "updated_at"])
    except IntegrityError:
        if (
            "customer_no" in names
            and Customer.objects.filter(customer_no__iexact=locked.customer_no).exclude(pk=locked.pk).exists()
        ):
            raise _number_taken(locked.customer_no) from None
        raise


def record_purchase(
    customer, *, by, product: str, quantity: int, amount: Decimal, purchased_on, request=None
) -> Purchase:
    """Add a purchase to an active card and keep its purchase figures current, audited, in one transaction."""
    with transaction.atomic():
        locked = _locked_for(customer, by, "customers.add_purchase", _("You are not allowed to record purchases."))
        purchase = Purchase.objects.create(
            customer=locked,
            product=product,
            quantity=quantity,
            amount=amount,
            purchased_on=purchased_on,
            recorded_by=by,
        )
        cards = Customer.objects.filter(pk=locked.pk)
        cards.update(
            purchase_count=F("purchase_count") + 1,
            purchase_total=F("purchase_total") + amount,
            updated_at=timezone.now(),
        )
        cards.filter(Q(last_purchase_on__isnull=True) | Q(last_purchase_on__lt=purchased_on)).update(
            last_purchase_on=purchased_on
        )
        values = {"product": product, "quantity": quantity, "amount": amount, "purchased_on": purchased_on}
        audit.record(
            "purchase.create",
            actor=by,
            request=request,
            obj=purchase,
            customer_id=locked.pk,
            summary=f"{product} × {quantity}: {amount}",
            changes=audit.diff({}, values),
        )
    _refresh(customer, ["purchase_count", "purchase_total", "last_purchase_on", "updated_at"])
    return purchase


def record_interaction(
    customer, *, by, kind: str, occurred_at, summary: str, outcome: str = "", request=None
) -> Interaction:
    """Log an interaction on an active card and move its "last interaction" forward if newer, audited."""
    with transaction.atomic():
        locked = _locked_for(customer, by, "customers.add_interaction", _("You are not allowed to log interactions."))
        interaction = Interaction.objects.create(
            customer=locked, kind=kind, occurred_at=occurred_at, summary=summary, outcome=outcome, by=by
        )
        Customer.objects.filter(pk=locked.pk).filter(
            Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=occurred_at)
        ).update(last_interaction_at=occurred_at, updated_at=timezone.now())
        values = {"kind": kind, "occurred_at": occurred_at, "summary": summary, "outcome": outcome}
        audit.record(
            "interaction.create",
            actor=by,
            request=request,
            obj=interaction,
            customer_id=locked.pk,
            summary=summary[:300],  # as typed; the kind is in the changes, shown in the reader's language
            changes=audit.diff({}, values),
        )
    _refresh(customer, ["last_interaction_at", "updated_at"])
    return interaction


def _locked_for(customer, by, permission: str, refusal: str) -> Customer:
    """The active card, locked (lock_for_change), once ``by`` may do what ``permission`` allows."""
    locked = lock_for_change(customer)
    if by is not None and not by.has_perm(permission):
        raise ValidationError(refusal, code="permission")
    return locked


def _refresh(customer, fields: list[str]) -> None:
    if isinstance(customer, Customer):
        customer.refresh_from_db(fields=fields)
