"""The outbox events a card's own changes write (crm/outbox.py): ``card.created`` and ``card.updated``.

Written in the change's transaction by each of the card's writers — the card gate (customers.gate),
an import (customers.batch), the balance ledger (customers.ledger: a top-up, a payment, a settlement,
a transfer) and a duplicate's merge (customers.merge) — so another system hears of every change of
a card's fields, and of none that rolled back. An event holds the names of the fields changed and
the audit entry that has their old and new values, never the values themselves (no personal data
in the outbox; a webhook reads the values from the entry, api.envelopes).
"""

from __future__ import annotations

from crm import outbox


def payload(entry) -> dict:
    """What the event says: the fields set or changed, and the audit entry holding their values."""
    return {"fields": sorted(entry.changes), "audit": entry.pk}


def announce(event_type: str, customer_id: int, entry, *, by) -> None:
    """One card event for the audit ``entry`` of a change (nothing for an entry that changed nothing)."""
    if not entry.changes:
        return
    outbox.emit(
        event_type,
        object_type="customer",
        object_id=customer_id,
        customer_id=customer_id,
        actor=by,
        payload=payload(entry),
    )
