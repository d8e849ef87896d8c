"""Managing reason categories (Admin, on the Reasons page): save one, and merge one into another.

Each is atomic, locks the category rows it changes, checks its rules against the locked rows,
refuses with a ValidationError a user can read, and writes one audit entry. A category's key never
changes once created (closures and the tallies store it); merging moves the key of every reason
and closure, through closures.writes like every closure write.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import audit

from . import categories, writes
from .models import ClosureReason, ReasonCategory

FIELDS = ("key", "label_en", "label_zh", "display_order", "is_active")


def _snapshot(category: ReasonCategory | None) -> dict:
    return {name: getattr(category, name) for name in FIELDS} if category is not None else {}


def save_category(category: ReasonCategory, *, by, request=None) -> ReasonCategory:
    """Create ``category`` (no pk yet) or save the changes made to it, audited with old → new values.

    Retiring is refused while active reasons are in the category (they would go on being chosen
    in a category nobody can pick): retire or move them first, or merge the category into
    another. "Duplicate record" cannot be retired: voiding a duplicate depends on it.
    """
    with transaction.atomic():
        before = None
        if category.pk:
            before = ReasonCategory.objects.select_for_update().get(pk=category.pk)
            category.key = before.key  # the key never changes
        if not category.is_active and (before is None or before.is_active):
            _check_can_retire(category)
        if category.is_active:
            category.merged_into = None
        try:
            with transaction.atomic():
                category.save()
        except IntegrityError as exc:  # another Admin took the key a moment ago
            raise ValidationError(
                _("Another category already has the key “%(key)s”.") % {"key": category.key}, code="key"
            ) from exc
        audit.record(
            "category.update" if before is not None else "category.create",
            actor=by,
            request=request,
            obj=category,
            object_type="reasoncategory",
            changes=audit.diff(_snapshot(before), _snapshot(category)),
            data={"category": category.key},
        )
    categories.forget()
    return category


def _check_can_retire(category: ReasonCategory) -> None:
    if category.key == categories.DUPLICATE:
        raise ValidationError(
            _("“%(category)s” cannot be retired: voiding a duplicate record asks for the card that stays.")
            % {"category": category.label},
            code="protected",
        )
    active = ClosureReason.objects.active().filter(category=category.key).count()
    if active:
        raise ValidationError(
            ngettext(
                "%(count)s active reason is in this category: retire it or move it to another category "
                "first, or merge the category into another.",
                "%(count)s active reasons are in this category: retire them or move them to another "
                "category first, or merge the category into another.",
                active,
            )
            % {"count": active},
            code="in_use",
        )


@dataclass(frozen=True)
class Merged:
    source: ReasonCategory
    target: ReasonCategory
    reasons: int
    closures: int


def merge_categories(source: ReasonCategory, target: ReasonCategory, *, by, request=None) -> Merged:
    """Merge ``source`` into ``target``: every reason and every closure in ``source`` moves to
    ``target``, the closure tallies are recounted in the same transaction (so the dashboard stays
    equal to a recount), and ``source`` is retired, remembering where it went.

    Refused: into itself, into a retired category, and either way for "Duplicate record" (voiding
    a duplicate asks for the surviving card, which no other category's closures have). Merging a
    category that is already retired is allowed: it sweeps up whatever is still in it.
    """
    with transaction.atomic():
        locked = ReasonCategory.objects.select_for_update().in_bulk([source.pk, target.pk])
        source, target = locked.get(source.pk), locked.get(target.pk)
        _check_merge(source, target)
        reason_ids = list(
            ClosureReason.objects.select_for_update().filter(category=source.key).values_list("pk", flat=True)
        )
        moved_reasons = ClosureReason.objects.filter(pk__in=reason_ids).update(category=target.key)
        moved_closures = writes.recategorise(source.key, target.key)
        source.is_active, source.merged_into = False, target
        source.save(update_fields=["is_active", "merged_into"])
        audit.record(
            "category.merge",
            actor=by,
            request=request,
            obj=source,
            object_type="reasoncategory",
            summary=f"{source.key} → {target.key}",
            changes={"category": [source.key, target.key]},
            data={"category": source.key, "into": target.key, "reasons": moved_reasons, "closures": moved_closures},
        )
    categories.forget()
    return Merged(source=source, target=target, reasons=moved_reasons, closures=moved_closures)


def _check_merge(source: ReasonCategory | None, target: ReasonCategory | None) -> None:
    if source is None or target is None:
        raise ValidationError(_("Choose the category to merge into."), code="missing")
    if source.pk == target.pk:
        raise ValidationError(_("A category cannot be merged into itself."), code="itself")
    if not target.is_active:
        raise ValidationError(
            _("“%(category)s” is retired: reactivate it first, or merge into an active category.")
            % {"category": target.label},
            code="retired",
        )
    for category in (source, target):
        if category.key == categories.DUPLICATE:
            raise ValidationError(
                _(
                    "“%(category)s” cannot be merged with another category: voiding a duplicate record asks "
                    "for the card that stays, and other closures have none."
                )
                % {"category": category.label},
                code="protected",
            )
