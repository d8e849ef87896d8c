"""Filters that higher apps add to the customer search, without customers importing them (DESIGN.md).

A higher app registers a filter in its AppConfig.ready:

    extra_filters.register("risk", field=lambda: forms.ChoiceField(...), apply=lambda qs, value: qs.filter(...),
                           permission="insights.view_score", order=10)

``field`` builds a fresh form field (called for every search form, so labels and choices may read
settings); ``apply(queryset, value)`` narrows the customers by the field's cleaned value (never
called with an empty value). Whoever holds ``permission`` sees the field in the advanced filters
and has it applied; for anyone else (and for a search without a user) the parameter is ignored,
as an unknown one would be. A registered filter is kept in the URL like the search's own, in a
saved view (customers.saved) and in an export's parameters, and described in words beside them.

A filter may also give ``candidates(value, before, limit)``: ids of the cards it may match, newest
first (below ``before`` when given), at most ``limit``, read from an index of its own. The search
newest first then reads its matches from them (customers.results.DrivenBy) instead of walking every
card from the newest in search of them: where the matches are old cards (customers at high risk
of leaving are mostly long-standing ones) that walk crossed a quarter of a million cards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet


@dataclass(frozen=True)
class ExtraFilter:
    name: str
    field: Callable[[], forms.Field]
    apply: Callable[[QuerySet, Any], QuerySet]
    permission: str
    order: int = 100
    candidates: Callable[[Any, int | None, int], list[int]] | None = None

    def describe(self, values: list[str]) -> tuple[str, str]:
        """(label, values in words): a choice shown by its label, in the reader's language."""
        field = self.field()
        choices = {str(key): label for key, label in getattr(field, "choices", ())}
        return str(field.label), ", ".join(str(choices.get(value, value)) for value in values)


_FILTERS: dict[str, ExtraFilter] = {}


def register(
    name: str,
    *,
    field: Callable[[], forms.Field],
    apply: Callable[[QuerySet, Any], QuerySet],
    permission: str,
    order: int = 100,
    candidates: Callable[[Any, int | None, int], list[int]] | None = None,
) -> None:
    _FILTERS[name] = ExtraFilter(name, field, apply, permission, order, candidates)


def unregister(name: str) -> None:
    _FILTERS.pop(name, None)


def registered() -> list[ExtraFilter]:
    """Every registered filter, in order (whoever may use it)."""
    return sorted(_FILTERS.values(), key=lambda f: (f.order, f.name))


def get(name: str) -> ExtraFilter | None:
    return _FILTERS.get(name)


def names() -> list[str]:
    return [f.name for f in registered()]


def for_user(user) -> list[ExtraFilter]:
    """The registered filters ``user`` may use (none without a user)."""
    if user is None:
        return []
    return [f for f in registered() if user.has_perm(f.permission)]
