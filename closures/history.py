"""What the audit trail needs from closures to show it in the reader's language: reasons by id (a
reason's label in whatever language reads it), who asked for a closure, bulk closures, imported
historical closures (their own date and performer), settlement notes, the action a request was
for, and the fields of reasons and closure settings. Registered with crm.audit_display in
ClosuresConfig.ready()."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import audit_display

from . import categories
from .models import Action, ClosureReason, ClosureRequest, ClosureSettings


def _load_reasons(ids: set) -> dict:
    wanted = [pk for pk in ids if isinstance(pk, int)]
    return {reason.pk: reason for reason in ClosureReason.objects.filter(pk__in=wanted)}


def _reason(pk, reasons: dict) -> str:
    reason = reasons.get(pk)
    return reason.label if reason is not None else ""


def _action(entry) -> str:
    action = (entry.data or {}).get("action")
    return str(Action(action).label) if action in Action.values else entry.summary


def _merge(entry) -> str:
    data = entry.data or {}
    return _("“%(source)s” into “%(target)s”. Reasons moved: %(reasons)s; closures moved: %(closures)s.") % {
        "source": categories.label(data.get("category", "")),
        "target": categories.label(data.get("into", "")),
        "reasons": data.get("reasons", 0),
        "closures": data.get("closures", 0),
    }


def _choices(choices):
    def words(value):
        return str(dict(choices).get(value, value))

    return words


def _historical(moment, _loaded) -> str:
    """An imported closure's own date (the entry's time is the import's)."""
    return _("Happened on %(date)s (imported history)") % {
        "date": audit_display.value_text("at", moment, unmasked=False)
    }


def _import_summary(entry) -> str:
    changes = entry.changes or {}
    counts = {name: (changes.get(name) or [None, 0])[-1] for name in ("file", "rows", "closed")}
    return _("%(file)s: %(closed)s closures from %(rows)s rows") % counts


def register() -> None:
    audit_display.register_detail("performed_at", _historical)
    audit_display.register_detail("performed_by", lambda name, _l: _("Performed by %(name)s") % {"name": name})
    audit_display.register_summary("closures.import", _import_summary)
    audit_display.register_detail("reason", _reason, load=_load_reasons)
    audit_display.register_detail("requested_by", lambda name, _l: _("Requested by %(name)s") % {"name": name})
    audit_display.register_detail("bulk", lambda _value, _l: _("Part of a bulk closure"))
    audit_display.register_detail(
        "merged", lambda _value, _l: _("Merged: its records were moved onto the surviving card")
    )
    audit_display.register_detail("merge", lambda _value, _l: _("Merge into the surviving card"))
    audit_display.register_detail("settlement", lambda text, _l: _("Settlement: %(note)s") % {"note": text})
    audit_display.register_detail(
        "withdrawn_because",
        lambda why, _l: _("Withdrawn because the card's personal data was deleted") if why == "erased" else "",
    )
    for action in ("closure.request", "closure.approve", "closure.reject", "closure.withdraw"):
        audit_display.register_summary(action, _action)
    audit_display.register_summary("category.merge", _merge)
    # A withdrawn request (by its requester, or because the card was deleted): "State: Withdrawn".
    audit_display.register_value(
        "closure.withdraw", "state", lambda state, _entry: _choices(ClosureRequest.State.choices)(state)
    )
    audit_display.register_fields(
        {
            "duplicate_of": gettext_lazy("Duplicate of"),
            "code": gettext_lazy("Code"),
            "label_en": gettext_lazy("Label (English)"),
            "label_zh": gettext_lazy("Label (Chinese)"),
            "category": gettext_lazy("Category"),
            "for_close": gettext_lazy("For closing cards"),
            "for_void": gettext_lazy("For voiding records"),
            "for_archive": gettext_lazy("For archiving"),
            "for_erase": gettext_lazy("For deletion"),
            "is_active": gettext_lazy("Active"),
            "display_order": gettext_lazy("Display order"),
            "notes_required": gettext_lazy("Notes required"),
            "key": gettext_lazy("Key"),
            "merged_into": gettext_lazy("Merged into"),
            "approval_required": gettext_lazy("Staff closures need a Manager's approval"),
            "approval_policy": gettext_lazy("Cards that need approval"),
            "state": gettext_lazy("State"),
        },
        values={
            "category": categories.label,
            "approval_policy": _choices(ClosureSettings.Policy.choices),
        },
    )
