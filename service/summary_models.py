"""The service dashboard's summary tables (service/tally.py keeps them): tickets counted by local
day and by local month with the dashboard's dimensions, and their first-response and resolution
times as counts per bucket; and churn after service per card and by day (service/churn_summary.py
keeps them). Models of the service app (service/models.py imports them)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

from .models import Category, Channel, Priority


class SummaryCounts(models.Model):
    """The dashboard's dimensions and counts, shared by the day rows and the month rows. ``team`` is
    the team's id, 0 for none, so a key never holds NULL and ``INSERT ... ON CONFLICT`` always finds
    its row."""

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", db_index=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    team = models.IntegerField(default=0)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    opened = models.IntegerField(default=0)
    backlog = models.IntegerField(default=0)  # +1 the day a ticket opened, −1 the day it was done
    resolved = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    was_resolved = models.IntegerField(default=0)  # opened this day and resolved at least once
    reopened = models.IntegerField(default=0)  # opened this day and reopened at least once
    fr_met = models.IntegerField(default=0)
    fr_missed = models.IntegerField(default=0)
    res_met = models.IntegerField(default=0)
    res_missed = models.IntegerField(default=0)
    sla_met = models.IntegerField(default=0)
    sla_missed = models.IntegerField(default=0)

    class Meta:
        abstract = True


class ServiceTally(SummaryCounts):
    """Tickets counted by local day and the dashboard's dimensions; kept in step by the ticket
    operations (service/tally.py explains which day each column counts on)."""

    day = models.DateField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["day", "category", "channel", "team", "priority"], name="servicetally_key"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.category_id} {self.channel} {self.team} {self.priority}"


class ServiceMonthTally(SummaryCounts):
    """The same counts by local month (``month``: its first day): the sum of the month's day rows,
    written with them, so a period's whole months are read from a few rows per key."""

    month = models.DateField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["month", "category", "channel", "team", "priority"], name="servicemonthtally_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.category_id} {self.channel} {self.team} {self.priority}"


class Measure(models.TextChoices):
    FIRST_RESPONSE = "fr", _("First response")
    RESOLUTION = "res", _("Resolution")


class SummaryTimes(models.Model):
    """The dashboard's dimensions and a measure's times, shared by the time rows by day and by month."""

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", db_index=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    team = models.IntegerField(default=0)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    measure = models.CharField(max_length=3, choices=Measure.choices)

    class Meta:
        abstract = True


class ServiceTimeTally(SummaryTimes):
    """First-response and resolution times in working minutes, as counts per log-spaced bucket
    (service/tally.py ``bucket_of``), by the day they were measured and the dashboard's dimensions."""

    Measure = Measure
    day = models.DateField()
    bucket = models.SmallIntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["day", "category", "channel", "team", "priority", "measure", "bucket"],
                name="servicetimetally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.measure} {self.bucket}: {self.n}"


TIME_BUCKETS = 60  # service/tally.py BUCKETS


class ServiceMonthTimeTally(SummaryTimes):
    """The same times by local month (``month``: its first day), written with the day rows: one row
    per key and measure with a column per bucket (``b0`` .. ``b59``), so a year of a measure is
    summed from about 6,000 rows rather than 20 times as many."""

    month = models.DateField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["month", "category", "channel", "team", "priority", "measure"],
                name="servicemonthtimetally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.category_id} {self.channel} {self.team} {self.priority} {self.measure}"


for _k in range(TIME_BUCKETS):
    ServiceMonthTimeTally.add_to_class(f"b{_k}", models.IntegerField(default=0))
del _k


class ServiceOwnerTally(SummaryCounts):
    """ServiceTally by the ticket's card's owner now as well (``owner_key``: a user id, 0 for none):
    a data scope's service dashboard (crm/scopes.py) reads these; service/tally.py keeps them and
    moves a ticket's counts when its card changes hands or the ticket moves to another card."""

    owner_key = models.IntegerField(default=0)
    day = models.DateField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["owner_key", "day", "category", "channel", "team", "priority"], name="serviceownertally_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_key} {self.day} {self.category_id} {self.channel} {self.team} {self.priority}"


class ServiceOwnerMonthTally(SummaryCounts):
    """ServiceMonthTally by the card's owner now as well."""

    owner_key = models.IntegerField(default=0)
    month = models.DateField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["owner_key", "month", "category", "channel", "team", "priority"],
                name="serviceownermonthtally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_key} {self.month:%Y-%m} {self.category_id} {self.channel} {self.team} {self.priority}"


class ServiceOwnerTimeTally(SummaryTimes):
    """ServiceTimeTally by the card's owner now as well."""

    owner_key = models.IntegerField(default=0)
    day = models.DateField()
    bucket = models.SmallIntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["owner_key", "day", "category", "channel", "team", "priority", "measure", "bucket"],
                name="serviceownertimetally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_key} {self.day} {self.measure} {self.bucket}: {self.n}"


class ServiceOwnerMonthTimeTally(SummaryTimes):
    """ServiceMonthTimeTally by the card's owner now as well (a column per bucket)."""

    owner_key = models.IntegerField(default=0)
    month = models.DateField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["owner_key", "month", "category", "channel", "team", "priority", "measure"],
                name="serviceownermonthtimetally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_key} {self.month:%Y-%m} {self.category_id} {self.measure}"


for _k in range(TIME_BUCKETS):
    ServiceOwnerMonthTimeTally.add_to_class(f"b{_k}", models.IntegerField(default=0))
del _k


class ChurnLast(models.Model):
    """Churn after service, kept per card and group (service/churn_summary.py keeps it): the local
    day of the card's last ticket in the group, and of its last ticket in the group whose card was
    closed within 90 days (``Ticket.closed_within_90``). Groups: ``all`` (any ticket), ``sla:missed``
    / ``sla:met`` / ``sla:open``, ``again:yes`` / ``again:no`` (reopened or not), ``cat:<id>``.

    The ``all`` row also carries what the group "customers without a ticket" needs: the card's
    ``customer_since`` (``since_day``) and when its closure in force with the "close" action was
    performed (``closed_at``; None: none)."""

    # Derived rows, rebuilt from the tickets: no database constraint (no deferred check per insert;
    # seed_scale truncates the tables in the transaction that filled them).
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    group_key = models.CharField(max_length=24)
    last_day = models.DateField()
    last_closed_day = models.DateField(null=True)
    since_day = models.DateField(null=True)
    closed_at = models.DateTimeField(null=True)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["customer", "group_key"], name="churnlast_key")]
        indexes = [
            models.Index(fields=["since_day", "last_day"], condition=models.Q(group_key="all"), name="churnlast_newer"),
            models.Index(
                fields=["closed_at"],
                include=["last_day", "since_day", "customer"],
                condition=models.Q(group_key="all", closed_at__isnull=False),
                name="churnlast_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.group_key} {self.last_day}"


class ChurnSpan(models.Model):
    """A closure of a card performed on a day before the card's last ticket, with that day and the
    card's ``customer_since`` (service/churn_summary.py): the few cards that may have had a closure
    in force at a period's start and a ticket in the period."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    performed_at = models.DateTimeField()
    reverted_at = models.DateTimeField(null=True)
    last_day = models.DateField()
    since_day = models.DateField(null=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.customer_id} {self.performed_at:%Y-%m-%d}"


class ChurnDay(models.Model):
    """The same counted by day, per group: ``customers`` whose last ticket in the group was on ``day``,
    ``closed`` whose last ticket in the group followed by a closure was on ``day``. The customers of a
    group with a ticket since a day are the sum of the rows from that day on."""

    group_key = models.CharField(max_length=24)
    day = models.DateField()
    customers = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["group_key", "day"], name="churnday_key")]

    def __str__(self) -> str:
        return f"{self.group_key} {self.day}: {self.customers}/{self.closed}"
