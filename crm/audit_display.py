"""Reading the audit trail in the reader's language.

An entry is stored as data: its event code (``action``), its object, its field changes with their
raw values (``{"status": ["active", "closed"]}``), structured details (``data``: where a change came
from, the reason's id, who asked for a closure...) and the text a user typed (``notes``). It is put
into words only when read, in the language of whoever reads it, so a Chinese reader's card history
says "销卡" and "状态：正常 → 已销卡" whoever wrote the entry, and an English reader's says "Card
closed" and "Status: Active → Closed". Only what users typed is shown as typed.

crm cannot import the apps above it, so each app registers what only it knows in its AppConfig.ready():

    register_fields({"city": _("City")}, values={"status": status_label}, contacts={"phone": mask_phone})
    register_detail("reason", render, load=lambda ids: {...})   # a key of ``data``, batched lookups
    register_summary("closures.export", summary)               # an entry's one-line summary
    register_value("closures.export", "filters", describe)     # one action's field in words

Entries written before the structure existed keep their free-text summary and reason; the migration
crm 0006 turned those it could parse into data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .audit import ACTION_LABELS
from .models import AuditEntry

_FIELD_LABELS: dict[str, Any] = {}
_VALUE_FORMATS: dict[str, Callable[[Any], str]] = {}
_CONTACTS: dict[str, Callable[[str], str]] = {}
_DETAILS: dict[str, tuple[Callable[..., str], Callable[[set], dict] | None]] = {}
_SUMMARIES: dict[str, Callable[[AuditEntry], str]] = {}
_ACTION_VALUES: dict[tuple[str, str], Callable[[Any, AuditEntry], str]] = {}
_DETAIL_ORDER: list[str] = []
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def register_fields(labels: dict[str, Any], *, values: dict | None = None, contacts: dict | None = None) -> None:
    """Field names to their (lazy) labels; raw values to words (choices); contact fields to their mask."""
    _FIELD_LABELS.update(labels)
    _VALUE_FORMATS.update(values or {})
    _CONTACTS.update(contacts or {})


def register_detail(key: str, render: Callable[..., str], *, load: Callable[[set], dict] | None = None) -> None:
    """``data[key]`` as a line: ``render(value, loaded)``; ``load(values)`` reads what a page needs at once."""
    _DETAILS[key] = (render, load)
    if key not in _DETAIL_ORDER:
        _DETAIL_ORDER.append(key)


def register_summary(action: str, summary: Callable[[AuditEntry], str]) -> None:
    _SUMMARIES[action] = summary


def register_value(action: str, name: str, words: Callable[[Any, AuditEntry], str]) -> None:
    """How one action's field reads (an export's filters, described by the app that owns them)."""
    _ACTION_VALUES[(action, name)] = words


@dataclass
class Change:
    label: str
    old: Any
    new: Any


@dataclass
class Shown:
    """One entry in words: what happened, to what, why and how, ready for a template."""

    entry: AuditEntry
    title: str
    summary: str = ""
    details: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    reason: str = ""
    notes: str = ""

    @property
    def at(self):
        return self.entry.at

    @property
    def actor_name(self) -> str:
        return self.entry.actor_name


def field_label(name: str) -> str:
    label = _FIELD_LABELS.get(name)
    return str(label) if label is not None else name


def value_text(name: str, value, *, unmasked: bool) -> Any:
    """A raw value as words: a choice's label, a masked contact, Yes/No; None stays None (shown as —)."""
    if value is None or value == "":
        return None
    if name in _CONTACTS and not unmasked:
        return _CONTACTS[name](str(value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    formatter = _VALUE_FORMATS.get(name)
    if formatter is not None:
        return formatter(value)
    if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
        return _local_moment(value)
    if isinstance(value, dict | list):
        return (
            ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else ", ".join(map(str, value))
        )
    return value


def _local_moment(value: str) -> str:
    """A moment stored as ISO 8601 (2026-12-05T19:29:06+00:00) in local time, as the pages show times."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "DATETIME_FORMAT")


def describe(entries: Iterable[AuditEntry], *, unmasked: bool) -> list[Shown]:
    """The entries in the active language; ``unmasked`` shows phones and emails in full."""
    entries = list(entries)
    loaded = _load_details(entries)
    return [_describe(entry, loaded, unmasked=unmasked) for entry in entries]


def _load_details(entries: list[AuditEntry]) -> dict[str, dict]:
    wanted: dict[str, set] = {}
    for entry in entries:
        for key, value in (entry.data or {}).items():
            if key in _DETAILS and _DETAILS[key][1] is not None and value not in (None, ""):
                wanted.setdefault(key, set()).add(value if not isinstance(value, list | dict) else str(value))
    return {key: _DETAILS[key][1](values) for key, values in wanted.items()}


def _describe(entry: AuditEntry, loaded: dict[str, dict], *, unmasked: bool) -> Shown:
    data = entry.data or {}
    shown = Shown(entry=entry, title=str(ACTION_LABELS.get(entry.action, entry.action)), notes=entry.notes)
    summary = _SUMMARIES.get(entry.action)
    shown.summary = summary(entry) if summary is not None else entry.summary
    for key in _DETAIL_ORDER:
        if key in data and data[key] not in (None, "", False):
            render, _load = _DETAILS[key]
            line = render(data[key], loaded.get(key, {}))
            if key == "reason":
                shown.reason = line
            elif line:
                shown.details.append(line)
    if not shown.reason:
        shown.reason = entry.reason  # written before reasons were kept by id
    for name, pair in (entry.changes or {}).items():
        old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        label = field_label(name)
        words = _ACTION_VALUES.get((entry.action, name))
        if words is not None:
            # Both sides in words: a ticket's "In progress → Resolved", not "— → Resolved".
            old_words = words(old, entry) if old not in (None, "") else None
            shown.changes.append(Change(label, old_words, words(new, entry)))
        else:
            shown.changes.append(
                Change(label, value_text(name, old, unmasked=unmasked), value_text(name, new, unmasked=unmasked))
            )
    return shown


# --- What crm itself knows: where a change came from, users, jobs ------------------------------------


def _source(source: dict, _loaded) -> str:
    kind = source.get("kind") if isinstance(source, dict) else None
    if kind == "form":
        return _("Changed on the card's form")
    if kind == "import":
        if source.get("line"):
            return _("Imported from %(file)s, line %(line)s") % {"file": source.get("file", ""), "line": source["line"]}
        return _("Imported from %(file)s") % {"file": source.get("file", "")}
    if kind == "migration":
        return _("Changed by a data migration")
    return str(_SOURCE_WORDS.get(kind, ""))


# Where else a change can come from (customers.gate.Source kinds; contact preferences, customers.consent).
_SOURCE_WORDS = {
    "survey": gettext_lazy("Answered by the customer in the exit survey"),
    "callback": gettext_lazy("Said by the customer on a callback"),
    "unsubscribe": gettext_lazy("By the customer, with the unsubscribe link in a message"),
}


def _role(value) -> str:
    from .roles import ROLE_LABELS

    return str(ROLE_LABELS.get(value, value))


def _job_kind(entry: AuditEntry) -> str:
    from .models import Job

    kind = (entry.data or {}).get("kind")
    return str(dict(Job.Kind.choices).get(kind, entry.summary)) if kind else entry.summary


def _import_summary(entry: AuditEntry) -> str:
    changes = entry.changes or {}
    counts = {name: (changes.get(name) or [None, 0])[-1] for name in ("file", "created", "updated", "unchanged")}
    return _("%(file)s: %(created)s new, %(updated)s updated, %(unchanged)s unchanged") % counts


def _export_summary(entry: AuditEntry) -> str:
    changes = entry.changes or {}
    rows = (changes.get("rows") or [None, 0])[-1]
    fmt = {"xlsx": "Excel", "csv": "CSV"}.get((changes.get("format") or [None, ""])[-1], "")
    return ngettext("%(format)s, %(rows)s row", "%(format)s, %(rows)s rows", rows or 0) % {"format": fmt, "rows": rows}


def _delivery(how: str) -> str:
    """How an invitation or a reset link reached its user (crm.invitations); the address is the entry's notes."""
    if how == "email":
        return _("By email")
    return _("Shown to the Admin to hand over")


def _names(values) -> str:
    return ", ".join(map(str, values)) if isinstance(values, list) else str(values)


register_detail("source", _source)
register_detail(
    "columns",
    lambda names, _loaded: _("Columns: %(names)s") % {"names": _names([field_label(name) for name in names or []])},
)
register_detail("new_tags", lambda value, _loaded: _("New tags: %(names)s") % {"names": _names(value)})
register_detail("delivery", lambda how, _loaded: _delivery(how))
register_summary("job.download", _job_kind)
register_summary("customer.import", _import_summary)
for _action in ("customer.export", "closures.export"):
    register_summary(_action, _export_summary)
register_fields(
    {
        "username": gettext_lazy("Username"),
        "first_name": gettext_lazy("First name"),
        "last_name": gettext_lazy("Last name"),
        "is_active": gettext_lazy("Active"),
        "role": gettext_lazy("Role"),
        "password": gettext_lazy("Password"),
        "file": gettext_lazy("File"),
        "rows": gettext_lazy("Rows"),
        "created": gettext_lazy("New customers"),
        "updated": gettext_lazy("Updated customers"),
        "unchanged": gettext_lazy("Unchanged"),
        "generated": gettext_lazy("Generated customer numbers"),
        "format": gettext_lazy("Format"),
        "filters": gettext_lazy("Filters"),
        "drill": gettext_lazy("Narrowed to"),
        "period": gettext_lazy("Period"),
    },
    values={"role": _role, "format": lambda fmt: {"xlsx": "Excel", "csv": "CSV"}.get(fmt, fmt)},
)


def _scope(value, _entry) -> str:
    from .models import DataScope

    return str(dict(DataScope.Scope.choices).get(value, value))


# A change of data scopes (crm/scopes.py): {"Staff": ["all", "own"]}, read as "Staff: All cards → Their own cards".
for _role_name in ("Staff", "Manager"):
    register_value("scopes.update", _role_name, _scope)
register_fields({"Staff": gettext_lazy("Staff"), "Manager": gettext_lazy("Manager")})
