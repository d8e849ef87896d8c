"""Keeping ``Ticket.closed_within_90`` right: was the ticket's card closed (the "close" action, not
reverted) within 90 days after the ticket opened?

The churn-after-service figures (analytics/service_churn.py) count customers by this fact; reading
it from the closures for every ticket of a year (an EXISTS probe per ticket) took 15 s at two
million tickets. Stored on the ticket, the figures are one pass over the period's tickets.

The flag changes when a closure is written or reverted (closures, floor 3) and when a ticket gets
its opening moment or its card (here: a ticket opened, possibly back-dated; tickets imported;
tickets moved to another card). The service app cannot read closures (DESIGN.md floors), so
closures registers the two functions that decide it (closures/ticket_flags.py, in its
AppConfig.ready), and the ticket writes call them inside their own transaction:

    value(customer_id, opened_at) -> bool      # for a ticket about to be saved
    refresh(customer_ids)                      # recount the flag of every ticket of these cards
    closures(customer_ids) -> {id: [(performed_at, reverted_at, action)]}   # every closure of these cards
                                               # (None: of every card), for service/churn_summary.py

The closure writes (closures/writes.py) refresh the cards they close or reinstate in the same way.
``refresh`` here also refreshes the cards' churn-after-service rows (service/churn_summary.py),
which depend on the flags and on the closures.
Without closures installed nothing is registered, no card can be closed and the flag stays False.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_value: Callable | None = None
_refresh: Callable | None = None
_closures: Callable | None = None


def register(*, value: Callable, refresh: Callable, closures: Callable) -> None:
    global _value, _refresh, _closures
    _value, _refresh, _closures = value, refresh, closures


def value(customer_id: int, opened_at) -> bool:
    return bool(_value and _value(customer_id, opened_at))


def refresh(customer_ids: Iterable[int], *, using: str | None = None) -> None:
    """Recount the flags of these cards' tickets, then their churn-after-service rows."""
    from . import churn_summary

    ids = sorted(set(customer_ids))
    if _refresh and ids:
        _refresh(ids, using=using)
    churn_summary.refresh(ids, using=using)


def closures(customer_ids: Iterable[int] | None, *, using: str = "default") -> dict[int, list]:
    return _closures(customer_ids, using=using) if _closures else {}
