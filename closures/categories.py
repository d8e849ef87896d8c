"""Reason categories as the rest of the code reads them: labels and choices by key.

Reasons and closures store a category's key (ClosureReason.category, Closure.category); the
ReasonCategory table gives its labels. Everything that shows a category (forms, the Reasons page,
the audit trail, analytics and exports) asks here instead of a list fixed in code.

The table is tiny (tens of rows), so it is read whole: once per request (kept for the request's
thread between Django's request_started and request_finished signals, and forgotten when a
category is saved), and on every call outside a request (management commands, jobs, tests),
where a caller that labels many rows takes ``labels()`` once and looks keys up in the dict.
"""

import threading

from django.core.signals import request_finished, request_started
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Category, ReasonCategory, in_language

# The keys the code itself names: voiding a duplicate asks for the surviving card.
DUPLICATE = Category.DUPLICATE.value
OTHER = Category.OTHER.value

_local = threading.local()


def _rows(using: str) -> list[tuple[str, str, str, bool]]:
    """(key, label_en, label_zh, is_active) of every category in display order."""
    cache = getattr(_local, "rows", None)
    if cache is not None and using in cache:
        return cache[using]
    rows = list(
        ReasonCategory.objects.using(using)
        .order_by("display_order", "id")
        .values_list("key", "label_en", "label_zh", "is_active")
    )
    if cache is not None:
        cache[using] = rows
    return rows


def labels(using: str = "default") -> dict[str, str]:
    """key → label in the active language (the other language's when it has none), in display
    order, retired categories included (old closures keep theirs)."""
    return {key: in_language(en, zh) or key for key, en, zh, _active in _rows(using)}


def label(key: str, using: str = "default") -> str:
    """One category's label; an unknown key is shown as itself."""
    return labels(using).get(key, key)


def choices(include_retired: bool = True, *, keep: tuple[str, ...] = (), using: str = "default") -> list:
    """(key, label) pairs for a select field, in display order. ``include_retired=False`` offers
    the active categories only, plus those in ``keep`` (the one a reason is in now)."""
    return [
        (key, in_language(en, zh) or key)
        for key, en, zh, active in _rows(using)
        if include_retired or active or key in keep
    ]


def is_active(key: str, using: str = "default") -> bool:
    return any(row[0] == key and row[3] for row in _rows(using))


@receiver(request_started)
def _start(**kwargs) -> None:
    _local.rows = {}


@receiver(request_finished)
def _finish(**kwargs) -> None:
    _local.rows = None


@receiver(post_save, sender=ReasonCategory)
@receiver(post_delete, sender=ReasonCategory)
def forget(**kwargs) -> None:
    """Drop this request's copy: the next call reads the table again."""
    if getattr(_local, "rows", None) is not None:
        _local.rows = {}
