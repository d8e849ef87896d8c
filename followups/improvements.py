"""Improvement actions: what Managers changed because of the closure reasons, dated, naming the
reason categories it targets. The dashboard (analytics/improvements.py) marks each on the monthly
chart and compares the closure rate of its categories before and after its date.

Adding, changing and deleting one are the operations below: atomic, the row locked for a change,
one audit entry each (``followups.improvement_add|change|delete``) with the old and new values.
An action may be dated up to a year ahead (``MAX_AHEAD_DAYS``): a planned change is recorded when
it is decided, and the dashboard labels it "planned" until its date.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closures import categories as reason_categories
from crm import audit, audit_display

from .models import Improvement

FIELDS = ("title", "started_on", "categories", "notes")
MAX_AHEAD_DAYS = 366
FIRST_YEAR = 1900

audit.ACTION_LABELS.update(
    {
        "followups.improvement_add": gettext_lazy("Improvement action recorded"),
        "followups.improvement_change": gettext_lazy("Improvement action changed"),
        "followups.improvement_delete": gettext_lazy("Improvement action deleted"),
    }
)


def _category_words(value) -> str:
    """Audited category keys ("price, service") as the reader's labels."""
    if not isinstance(value, str) or not value:
        return "" if value in (None, "") else str(value)
    labels = reason_categories.labels()
    return ", ".join(str(labels.get(key, key)) for key in value.split(", "))


audit_display.register_fields(
    {"started_on": gettext_lazy("Date"), "categories": gettext_lazy("Reason categories it targets")},
    values={"categories": _category_words},
)


def latest_date(today: date) -> date:
    """The latest date an action may carry: planned actions up to a year ahead."""
    return today + timedelta(days=MAX_AHEAD_DAYS)


def is_planned(improvement: Improvement, today: date) -> bool:
    return improvement.started_on > today


def _snapshot(improvement: Improvement) -> dict:
    return {name: getattr(improvement, name) for name in FIELDS}


def _check(improvement: Improvement) -> None:
    """The rules the form also shows next to its fields, checked again here for every other caller."""
    errors = {}
    if not (improvement.title or "").strip():
        errors["title"] = _("Enter a title.")
    known = set(reason_categories.labels())
    chosen = list(improvement.categories or [])
    if not chosen:
        errors["categories"] = _("Choose at least one reason category.")
    elif any(key not in known for key in chosen):
        errors["categories"] = _("Choose reason categories from the list.")
    if improvement.started_on is None:
        errors["started_on"] = _("Enter the date of the action.")
    if errors:
        raise ValidationError(errors)


def add_improvement(improvement: Improvement, *, by, request=None) -> Improvement:
    """Record a new action (``improvement`` unsaved), by ``by``; audited with its values."""
    _check(improvement)
    improvement.created_by = by
    with transaction.atomic():
        improvement.save()
        audit.record(
            "followups.improvement_add",
            actor=by,
            request=request,
            obj=improvement,
            summary=improvement.title,
            changes=audit.diff({}, _snapshot(improvement)),
        )
    return improvement


def change_improvement(pk: int, values: dict, *, by, request=None) -> Improvement:
    """Change an action's fields (``values``: some of FIELDS) on the locked row; audited old → new.
    Nothing is written (and nothing audited) when nothing changed."""
    with transaction.atomic():
        improvement = Improvement.objects.select_for_update().get(pk=pk)
        before = _snapshot(improvement)
        for name in FIELDS:
            if name in values:
                setattr(improvement, name, values[name])
        _check(improvement)
        changes = audit.diff(before, _snapshot(improvement))
        if changes:
            improvement.save(update_fields=[name for name in FIELDS if name in changes])
            audit.record(
                "followups.improvement_change",
                actor=by,
                request=request,
                obj=improvement,
                summary=improvement.title,
                changes=changes,
            )
    return improvement


def delete_improvement(pk: int, *, by, request=None) -> Improvement:
    """Delete an action; the audit entry keeps what it said (old → nothing)."""
    with transaction.atomic():
        improvement = Improvement.objects.select_for_update().get(pk=pk)
        before = _snapshot(improvement)
        audit.record(
            "followups.improvement_delete",
            actor=by,
            request=request,
            obj=improvement,
            summary=improvement.title,
            changes=audit.diff(before, dict.fromkeys(FIELDS)),
        )
        improvement.delete()
    return improvement
