"""The ticket's state machine: one table of what each operation may do from which status.

    new ──assign/take──▶ assigned ──start / first step──▶ in progress ◀──resume── waiting for customer
     │                      │                                │ ──wait──────────────────▲
     └──────────────────────┴──────── resolve ───────────────┴──▶ resolved ──close──▶ closed
                                                                     ▲ reopen (note) ─┘ (back to assigned, or new)
    any open status ──cancel (note)──▶ cancelled   (the closure flow's "cancel", a duplicate, a mistake)

A plain table rather than django-fsm-2: the operations (service/operations.py) must lock the row,
re-read it and refuse with a sentence a user can read before anything is written; with a table the
rule is data the operations, the ticket page (which buttons to show) and the tests all read, and
there is no second path (a model method decorated as a transition) that could change a status
without the lock and the audit entry.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import OPEN_STATUSES, Status

# operation -> (the statuses it may start from, the status it leads to; None: decided by the operation)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "assign": (frozenset(OPEN_STATUSES), None),  # new → assigned; otherwise the status stays
    "hand_off": (frozenset(OPEN_STATUSES), None),  # assigned when someone of the new team takes it, else new
    "start": (frozenset({Status.NEW, Status.ASSIGNED}), Status.IN_PROGRESS),
    "step": (frozenset(OPEN_STATUSES), None),  # work on a new or assigned ticket starts it
    "wait": (frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS}), Status.WAITING),
    "resume": (frozenset({Status.WAITING}), Status.IN_PROGRESS),
    "resolve": (frozenset(OPEN_STATUSES), Status.RESOLVED),
    "close": (frozenset({Status.RESOLVED}), Status.CLOSED),
    "reopen": (frozenset({Status.RESOLVED, Status.CLOSED}), None),  # assigned (or new without an assignee)
    "cancel": (frozenset(OPEN_STATUSES), Status.CANCELLED),
    "change_sla": (frozenset(OPEN_STATUSES), None),
}

ACTION_WORDS = {
    "assign": gettext_lazy("assigned"),
    "hand_off": gettext_lazy("handed to another team"),
    "start": gettext_lazy("started"),
    "step": gettext_lazy("worked on"),
    "wait": gettext_lazy("put on waiting for the customer"),
    "resume": gettext_lazy("resumed"),
    "resolve": gettext_lazy("resolved"),
    "close": gettext_lazy("closed"),
    "reopen": gettext_lazy("reopened"),
    "cancel": gettext_lazy("cancelled"),
    "change_sla": gettext_lazy("given a new SLA"),
}


def allowed(operation: str, status: str) -> bool:
    return status in TRANSITIONS[operation][0]


def available(status: str) -> list[str]:
    """The operations a ticket in ``status`` allows (the ticket page shows these buttons)."""
    return [operation for operation, (sources, _target) in TRANSITIONS.items() if status in sources]


def check(operation: str, status: str) -> None:
    """Refuse ``operation`` on a ticket in ``status``, in words."""
    if not allowed(operation, status):
        hint = _(" Reopen it first.") if operation != "reopen" and status in (Status.RESOLVED, Status.CLOSED) else ""
        raise ValidationError(
            _("This ticket is %(status)s: it cannot be %(action)s.%(hint)s")
            % {"status": Status(status).label.lower(), "action": ACTION_WORDS[operation], "hint": hint},
            code="status",
        )


def target(operation: str) -> str | None:
    return TRANSITIONS[operation][1]
