"""The closure tallies: closures counted by local month and the dashboard's dimensions, and by
cohort; kept in step with the closure table by closures/tally.py, which explains each of them.
Models of the closures app (closures/models.py imports them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from customers.models import Customer

from .models import Action, ClosureReason


class MonthCounts(models.Model):
    """What every closure tally by month keeps: the local month performed and reverted (integer keys
    ``year * 12 + month - 1``, 0 = not reverted), the action, and the count."""

    month = models.IntegerField()  # year * 12 + month - 1 of the local month performed
    reverted_month = models.IntegerField(default=0)
    action = models.CharField(max_length=10, choices=Action.choices)
    n = models.IntegerField(default=0)

    class Meta:
        abstract = True


class ClosureTally(MonthCounts):
    """Closures counted by local month, reverted month (0 = not reverted) and the dimensions the
    dashboard groups by; kept in step by closures/tally.py (see there)."""

    reason = models.ForeignKey(ClosureReason, on_delete=models.PROTECT, related_name="+", db_index=False)
    category = models.CharField(max_length=40)
    segment = models.CharField(max_length=16, choices=Customer.Segment.choices)
    band = models.CharField(max_length=8)  # tenure band key (closures.tally.TENURE_BANDS)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "reverted_month", "action", "reason", "category", "segment", "band"],
                name="closuretally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.reverted_month} {self.action} {self.reason_id} {self.segment} {self.band}: {self.n}"


class ClosureStaffTally(MonthCounts):
    """Closures counted by local month, reverted month, action, reason, category and performer:
    the "by staff" chart and the figures filtered by performer (closures/tally.py)."""

    reason = models.ForeignKey(ClosureReason, on_delete=models.PROTECT, related_name="+", db_index=False)
    category = models.CharField(max_length=40)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "reverted_month", "action", "reason", "category", "performed_by"],
                name="closurestafftally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.reverted_month} {self.action} {self.reason_id} {self.performed_by_id}: {self.n}"


class ClosureOwnerTally(MonthCounts):
    """Closures counted by local month, reverted month, action, reason, category and the card's
    owner now (``Closure.card_owner``; 0 for none): a data scope's figures (crm/scopes.py) from a
    few rows per owner and month instead of its closures (closures/tally.py)."""

    reason = models.ForeignKey(ClosureReason, on_delete=models.PROTECT, related_name="+", db_index=False)
    category = models.CharField(max_length=40)
    owner_key = models.IntegerField(default=0)  # a user id (0: none), not a foreign key, so a key never holds NULL

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner_key", "month", "reverted_month", "action", "reason", "category"],
                name="closureownertally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_key} {self.month} {self.reverted_month} {self.action} {self.reason_id}: {self.n}"


class ClosureOwnerBandTally(MonthCounts):
    """The same by segment and tenure band instead of reason: a data scope's "by segment" and
    "by tenure" charts (closures/tally.py)."""

    segment = models.CharField(max_length=16, choices=Customer.Segment.choices)
    band = models.CharField(max_length=8)
    owner_key = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner_key", "month", "reverted_month", "action", "segment", "band"],
                name="closureownerbandtally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_key} {self.month} {self.reverted_month} {self.action} {self.segment} {self.band}: {self.n}"


class CohortTally(models.Model):
    """Closures in force (not reverted) counted by the card's cohort (the local month of its
    "customer since"), whole months from that day to the closing date (capped: ``COHORT_MONTHS``
    and more count as ``COHORT_MONTHS``), action and segment: the cohort table's closure side;
    kept in step by closures/tally.py."""

    cohort = models.IntegerField()  # year * 12 + month - 1 of the customer_since snapshot
    months = models.IntegerField()  # whole months from customer_since to the local closing date
    action = models.CharField(max_length=10, choices=Action.choices)
    segment = models.CharField(max_length=16, choices=Customer.Segment.choices)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort", "months", "action", "segment"], name="cohorttally_key"),
        ]

    def __str__(self) -> str:
        return f"{self.cohort} +{self.months} {self.action} {self.segment}: {self.n}"


class ClosureOwnerStaffTally(MonthCounts):
    """Closures by the card's owner now, local month, reverted month, action and performer: a data
    scope's "by staff" chart (closures/tally.py)."""

    owner_key = models.IntegerField(default=0)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner_key", "month", "reverted_month", "action", "performed_by"],
                name="closureownerstafftally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_key} {self.month} {self.reverted_month} {self.action} {self.performed_by_id}: {self.n}"


class CohortOwnerTally(models.Model):
    """The cohort tally by the card's owner (``Closure.card_owner``; 0 for none) instead of the
    segment: a data scope's cohort table (analytics/cohorts.py). A closure in force keeps its owner
    (a closed card is not edited), so its row never moves; a reinstatement counts it down."""

    owner_key = models.IntegerField(default=0)
    cohort = models.IntegerField()
    months = models.IntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner_key", "cohort", "months", "action"], name="cohortownertally_key"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_key} {self.cohort} +{self.months} {self.action}: {self.n}"
