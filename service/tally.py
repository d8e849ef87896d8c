"""The service dashboard's summary rows, kept by the ticket operations (like the closure tallies).

    before = tally.snapshot(ticket)   # on the locked ticket, before the operation changes it
    ...                               # the operation changes and saves the ticket
    tally.changed(before, ticket)     # the summary moves from the old contribution to the new

``snapshot`` of a ticket that did not exist yet is None. (Filled in with the service dashboard.)
"""

from __future__ import annotations


def snapshot(ticket) -> dict | None:
    return None if ticket is None or ticket.pk is None else {}


def changed(before: dict | None, ticket) -> None:
    return None
