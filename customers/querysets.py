"""The card's queries that recur: the cards not erased, those a user may see, and locking many in one order."""

from __future__ import annotations

from django.db import models

from crm import scopes

LOCK_BATCH = 5000


class CustomerQuerySet(models.QuerySet):
    def not_erased(self) -> CustomerQuerySet:
        return self.exclude(status=self.model.Status.ERASED)

    def visible_to(self, user) -> CustomerQuerySet:
        """The cards ``user`` may see: their role's data scope (crm/scopes.py), on every read path."""
        return self.filter(scopes.q(user))

    def lock(self, ids) -> list:
        """These cards, locked until the transaction ends and read as they are now, in primary-key order.

        The one lock order of every operation that locks several cards (the closure operations,
        bulk closing, import): two of them locking overlapping cards wait for each other instead
        of deadlocking. Cards that do not exist are left out.
        """
        return [card for batch in self._batches(ids) for card in self._locking(batch)]

    def lock_ids(self, ids) -> None:
        """:meth:`lock` without reading the rows (an import locks up to 200,000 cards)."""
        for batch in self._batches(ids):
            list(self._locking(batch).values_list("pk", flat=True))

    def _locking(self, batch: list[int]) -> CustomerQuerySet:
        return self.select_for_update().filter(pk__in=batch).order_by("pk")

    @staticmethod
    def _batches(ids):
        ordered = sorted({int(pk) for pk in ids})
        for start in range(0, len(ordered), LOCK_BATCH):
            yield ordered[start : start + LOCK_BATCH]
