"""What the audit trail needs from service to show ticket events on the card's timeline, in the
reader's language: each ``ticket.<operation>`` entry's title and a one-line summary ("Ticket
S2026-000001 handed to After-sales" / "处理单 S2026-000001 转交给售后"), the ticket's status and team
in words. The operations (service/operations.py) write the entries with the card's id; this is
registered with crm.audit_display in ServiceConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from crm import audit, audit_display
from crm.formatting import in_language

from .models import Status

TITLES = {
    "open": gettext_lazy("Ticket opened"),
    "take": gettext_lazy("Ticket taken"),
    "assign": gettext_lazy("Ticket assigned"),
    "step": gettext_lazy("Ticket step added"),
    "hand_off": gettext_lazy("Ticket handed over"),
    "start": gettext_lazy("Ticket started"),
    "wait": gettext_lazy("Ticket waiting for the customer"),
    "resume": gettext_lazy("Ticket resumed"),
    "resolve": gettext_lazy("Ticket resolved"),
    "close": gettext_lazy("Ticket closed"),
    "reopen": gettext_lazy("Ticket reopened"),
    "cancel": gettext_lazy("Ticket cancelled"),
    "change_sla": gettext_lazy("Ticket SLA changed"),
}

SENTENCES = {
    "open": gettext_lazy("Ticket %(number)s opened: %(subject)s"),
    "take": gettext_lazy("Ticket %(number)s taken"),
    "assign": gettext_lazy("Ticket %(number)s assigned to %(name)s"),
    "step": gettext_lazy("Ticket %(number)s: a step was added"),
    "hand_off": gettext_lazy("Ticket %(number)s handed to %(team)s"),
    "start": gettext_lazy("Ticket %(number)s started"),
    "wait": gettext_lazy("Ticket %(number)s is waiting for the customer"),
    "resume": gettext_lazy("Ticket %(number)s resumed"),
    "resolve": gettext_lazy("Ticket %(number)s resolved"),
    "close": gettext_lazy("Ticket %(number)s closed"),
    "reopen": gettext_lazy("Ticket %(number)s reopened"),
    "cancel": gettext_lazy("Ticket %(number)s cancelled"),
    "change_sla": gettext_lazy("Ticket %(number)s has a new SLA"),
}


def _team(entry, side: str = "to_team") -> str:
    """The team a ticket went to (``side`` "from_team": came from), in the reader's language: both
    names are kept in the entry's data (older entries lack the team it came from: then its name as
    the writer read it, from the entry's changes)."""
    names = (entry.data or {}).get(side)
    if isinstance(names, list) and len(names) == 2:
        return in_language(*names)
    team = (entry.changes or {}).get("team")
    return str(team[0 if side == "from_team" else -1]) if isinstance(team, list) and team else ""


def _team_words(value, entry) -> str:
    """A hand-off's "Team: Service desk → After-sales": ``value`` is the old name or the new one."""
    team = (entry.changes or {}).get("team")
    came_from = isinstance(team, list) and len(team) == 2 and value == team[0] and value != team[1]
    return _team(entry, "from_team" if came_from else "to_team")


def summary_for(operation: str):
    def summary(entry) -> str:
        data = entry.data or {}
        number = data.get("number") or entry.summary.split(" ", 1)[0]
        subject = entry.summary[len(number) :].strip() if entry.summary.startswith(number) else entry.summary
        assignee = (entry.changes or {}).get("assignee") or ["", ""]
        values = {"number": number, "subject": subject, "team": _team(entry), "name": assignee[-1]}
        return str(SENTENCES[operation]) % values

    return summary


def _status_words(value, _entry) -> str:
    return str(dict(Status.choices).get(value, value))


def register() -> None:
    for operation, title in TITLES.items():
        action = f"ticket.{operation}"
        audit.ACTION_LABELS.setdefault(action, title)
        audit_display.register_summary(action, summary_for(operation))
        audit_display.register_value(action, "status", _status_words)
    audit_display.register_value("ticket.hand_off", "team", _team_words)
    audit_display.register_fields(
        {
            "assignee": gettext_lazy("Assignee"),
            "team": gettext_lazy("Team"),
            "first_response_minutes": gettext_lazy("First response within (working minutes)"),
            "resolution_minutes": gettext_lazy("Resolution within (working minutes)"),
        }
    )
