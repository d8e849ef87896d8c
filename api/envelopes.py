"""The JSON a webhook carries: one versioned envelope per event, built once when the event is fanned
out (api/webhooks.py), so every attempt and a redelivery send the same bytes.

    {"id": "evt_123", "type": "card.updated", "version": 1, "occurred_at": "2026-12-06T10:00:00Z",
     "actor": {"username": "li"} | null,
     "data": {"card": {...}, "changes": {"phone": {"old": "...", "new": "..."}}, "closure": {...}}}

``data.card`` is the card as it is when the event is fanned out (normally within a second of the
change); ``data.changes`` are the old and new values of a card.created / card.updated event, from
its audit entry (the event itself holds only the fields' names). An erased card — ``card.erased``,
and any event whose card has been erased by the time it is fanned out — carries its number and the
fact of erasure, nothing else: its personal data is gone, and must not leave in a webhook either.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from closures.models import ClosureReason
from crm.models import AuditEntry, Event
from customers.models import Customer

VERSION = 1
CARD_EVENTS = (
    "card.created",
    "card.updated",
    "card.closed",
    "card.voided",
    "card.archived",
    "card.reinstated",
    "card.erased",
)
CLOSURE_EVENTS = ("closure.requested", "closure.approved", "closure.rejected")
TYPES = CARD_EVENTS + CLOSURE_EVENTS
TEST_EVENT = "webhook.test"


def dumps(envelope: dict) -> str:
    """The envelope's JSON text: compact, UTF-8 as it is (names in Chinese stay readable)."""
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def timestamp(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def envelope(event: Event, data: dict) -> dict:
    actor = {"username": event.actor.get_username()} if event.actor_id and event.actor else None
    return {
        "id": f"evt_{event.pk}",
        "type": event.type,
        "version": VERSION,
        "occurred_at": timestamp(event.created_at),
        "actor": actor,
        "data": data,
    }


def card(customer: Customer | None, number: str = "") -> dict:
    """The card's current representation; an erased (or vanished) card's number and that it is erased."""
    if customer is None:
        return {"number": number, "erased": True}
    if customer.status == Customer.Status.ERASED:
        return {"number": customer.customer_no, "erased": True}
    return {
        "id": customer.pk,
        "number": customer.customer_no,
        "name": customer.name,
        "status": customer.status,
        "phone": customer.phone,
        "email": customer.email,
        "city": customer.city,
        "segment": customer.segment,
        "stage": customer.stage,
        "language": customer.language,
        "owner": customer.owner.get_username() if customer.owner_id else None,
        "balance": str(customer.balance),
        "points": customer.points,
        "customer_since": customer.customer_since,
        "created_at": timestamp(customer.created_at),
        "updated_at": timestamp(customer.updated_at),
    }


def bodies(events: list[Event]) -> dict[int, str]:
    """The envelope's JSON of each event (by event id), reading the cards, reasons and audit entries
    of the whole batch in three queries."""
    customer_ids = {event.customer_id for event in events if event.customer_id}
    customers = Customer.objects.select_related("owner").in_bulk(customer_ids)
    audit_ids = {event.payload.get("audit") for event in events if event.payload.get("audit")}
    changes = dict(AuditEntry.objects.filter(pk__in=audit_ids).values_list("pk", "changes")) if audit_ids else {}
    reason_ids = {event.payload.get("reason") for event in events if event.payload.get("reason")}
    reasons = dict(ClosureReason.objects.filter(pk__in=reason_ids).values_list("pk", "code")) if reason_ids else {}
    return {event.pk: dumps(envelope(event, _data(event, customers, changes, reasons))) for event in events}


def _data(event: Event, customers: dict, changes: dict, reasons: dict) -> dict[str, Any]:
    customer = customers.get(event.customer_id)
    if event.type == "card.erased" or customer is None or customer.status == Customer.Status.ERASED:
        return {"card": card(customer if customer is not None else None, _number(customer))}
    data: dict[str, Any] = {"card": card(customer)}
    payload = event.payload
    if event.type in ("card.created", "card.updated"):
        entry = changes.get(payload.get("audit"), {})
        data["changes"] = {name: {"old": pair[0], "new": pair[1]} for name, pair in sorted(entry.items())}
    elif event.type in CLOSURE_EVENTS:
        data["request"] = {
            "id": payload.get("request"),
            "action": payload.get("action"),
            "reason": reasons.get(payload.get("reason")),
            "state": payload.get("state"),
            "closure": payload.get("closure"),
        }
    else:  # card.closed / voided / archived / reinstated
        data["closure"] = {
            "id": payload.get("closure"),
            "action": payload.get("action"),
            "reason": reasons.get(payload.get("reason")),
            "category": payload.get("category"),
            "settlement": payload.get("settlement"),
            "balance_at_closure": payload.get("balance_at_closure"),
            "points_at_closure": payload.get("points_at_closure"),
            "reverted": event.type == "card.reinstated",
        }
    return data


def _number(customer) -> str:
    return customer.customer_no if customer is not None else ""


def erased_body(body: str) -> str:
    """``body`` with its card reduced to the number and the fact of erasure, and its changes dropped:
    what a delivery still waiting (or kept in the log) of a card erased since says."""
    envelope = json.loads(body)
    data = envelope.get("data") or {}
    number = (data.get("card") or {}).get("number", "")
    envelope["data"] = {"card": {"number": number, "erased": True}}
    return dumps(envelope)


def test_body(event: Event, endpoint) -> str:
    """A ``webhook.test`` event's envelope: no card, only the endpoint it was sent to."""
    return dumps(envelope(event, {"test": True, "endpoint": endpoint.name}))
