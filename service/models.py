"""Service records (处理单): tickets, the steps of their service process, the SLA policies and the
working calendar their due times are counted in.

A ticket's status changes only through the ticket operations (service/operations.py), by the one
state machine in service/states.py; its due times are counted in working time by
service/calendar.py. Steps are the ticket's history: what was done, told, handed over and decided.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.formatting import in_language
from crm.models import Team
from customers.models import Customer


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    STORE = "store", _("In store")
    WEB = "web", _("Web form")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")  # not the card's "Closed" (已销卡)
    CANCELLED = "cancelled", _("Cancelled")


# Still being worked (or waiting): the card's service panel lists these first, the closure flow asks about them.
OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING)
DONE_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)


# Open and being worked (not waiting for the customer): the ones that can be overdue (service/sla.py).
WORKING_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS)


def next_due() -> Case:
    """The moment a ticket is next due: its first response's until answered (or its resolution's when
    that is sooner), then its resolution's. A ticket being worked is overdue past it (service/sla.py);
    the expression of the index ticket_overdue_open, which must stay the same to be used."""
    unanswered = Q(first_response_at__isnull=True, first_response_due__isnull=False)
    return Case(
        When(unanswered & Q(resolution_due__lt=F("first_response_due")), then=F("resolution_due")),
        When(unanswered, then=F("first_response_due")),
        default=F("resolution_due"),
        output_field=models.DateTimeField(),
    )


def open_first() -> Case:
    """0 for an open ticket, 1 for a done one: the card's service panel's order (service/card_panel.py)
    and the expression of the index ticket_customer_panel, which must stay the same to be used."""
    return Case(
        When(status__in=[str(status) for status in OPEN_STATUSES], then=Value(0)),
        default=Value(1),
        output_field=models.IntegerField(),
    )


class Category(models.Model):
    """What a ticket is about (complaint, repair, return/refund, enquiry, billing, other). Admins
    manage them; like reason categories they are retired, not deleted, so old tickets keep their meaning."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    label_en = models.CharField(_("label (English)"), max_length=120)
    label_zh = models.CharField(_("label (Chinese)"), max_length=120)
    position = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return in_language(self.label_en, self.label_zh) or self.key


class SlaPolicy(models.Model):
    """The targets of a ticket of ``priority`` (and ``category`` when set; blank: any category), in
    working minutes. The most specific active policy applies (service/sla.py)."""

    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (working minutes)"), validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 60)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (working minutes)"), validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 365)]
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["priority", "category_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "category"],
                condition=Q(active=True, category__isnull=False),
                name="slapolicy_one_active_per_category",
            ),
            models.UniqueConstraint(
                fields=["priority"],
                condition=Q(active=True, category__isnull=True),
                name="slapolicy_one_active_default",
            ),
        ]

    def __str__(self) -> str:
        category = self.category if self.category_id else _("any category")  # (not in the f-string: xgettext)
        return f"{self.get_priority_display()} · {category}"


class WorkingCalendar(models.Model):
    """The service desk's working week (one row): time zone, the hours of a working day and the
    weekdays worked. Public holidays and make-up working days are Holiday rows."""

    time_zone = models.CharField(_("time zone"), max_length=60, default="Asia/Shanghai")
    day_starts = models.TimeField(_("working day starts"), default=dt.time(9, 0))
    day_ends = models.TimeField(_("working day ends"), default=dt.time(18, 0))
    # ISO weekdays worked: 1 = Monday ... 7 = Sunday.
    weekdays = models.CharField(_("working weekdays"), max_length=7, default="12345")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendar")
        default_permissions = ("view", "change")

    def __str__(self) -> str:
        return f"{self.time_zone} {self.day_starts:%H:%M}–{self.day_ends:%H:%M} {self.weekdays}"


class Holiday(models.Model):
    """A day that breaks the working week: a public holiday (no work) or, with ``working`` set, a
    make-up working day on a weekend (调休)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=80)
    working = models.BooleanField(_("make-up working day"), default=False)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class TicketNumber(models.Model):
    """The last ticket number given out in ``year`` (S2026-000123): locked while a ticket is opened."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Ticket(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="tickets")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    subject = models.CharField(_("subject"), max_length=200)
    need = models.TextField(_("the customer's need, in their words"), blank=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # The SLA (service/sla.py): targets copied from the policy when the ticket opened (a Manager may
    # change them with a note), due times counted in working time and moved on by pauses.
    sla_policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    paused_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    paused_minutes = models.PositiveIntegerField(default=0)  # working minutes spent waiting for the customer
    first_response_breached = models.BooleanField(_("first response late"), default=False)
    resolution_breached = models.BooleanField(_("resolution late"), default=False)
    # Was the card closed (the "close" action, not reverted) within 90 days after this ticket opened?
    # The churn-after-service figures' fact per ticket, kept by the closure writes and the ticket
    # writes that can change it (service/churn_flag.py explains who keeps it and why).
    closed_within_90 = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("manage_tickets", _("Reassign tickets, change their SLA and see every team's queue")),
            ("configure_service", _("Manage ticket categories, teams, SLA policies and the working calendar")),
            ("view_service_analytics", _("See the service dashboard")),
            ("export_tickets", _("Export tickets")),
            ("import_tickets", _("Import historical tickets")),
        ]
        indexes = [
            # A card's tickets, newest first; with the breach flags, the closure dashboard's "last ticket
            # before the closure missed its SLA" (analytics/service_links.py) is one index-only probe.
            models.Index(
                fields=["customer", "-created_at", "-id"],
                include=["first_response_breached", "resolution_breached"],
                name="ticket_customer_created",
            ),
            # The card's service panel in its order: open tickets first, then the others, newest first.
            models.Index(
                F("customer"), open_first(), F("created_at").desc(), F("id").desc(), name="ticket_customer_panel"
            ),
            models.Index(fields=["assignee", "status", "-created_at"], name="ticket_assignee_status"),
            models.Index(fields=["team", "status", "-created_at"], name="ticket_team_status"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_created"),
            # The cards whose tickets changed since the last scoring run (insights/scoring.py).
            models.Index(fields=["updated_at"], name="ticket_updated"),
            models.Index(fields=["status", "resolution_due"], name="ticket_status_due"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created"),
            # The overdue queue's first-response branch (the resolution branch reads ticket_status_due):
            # open tickets not yet answered, by when the answer is due.
            models.Index(
                fields=["first_response_due"],
                condition=Q(first_response_at__isnull=True, status__in=["new", "assigned", "in_progress"]),
                name="ticket_response_due_open",
            ),
            # The team and unassigned queues, newest first, straight from the index: with the open
            # statuses as an IN list, ticket_team_status cannot give them in order, and the planner
            # walked every ticket newest first to find a small team's (0.5 s at 400,000 tickets).
            models.Index(
                fields=["team", "-created_at", "-id"],
                condition=Q(status__in=["new", "assigned", "in_progress", "waiting"]),
                name="ticket_team_open",
            ),
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(assignee__isnull=True, status__in=["new", "assigned", "in_progress", "waiting"]),
                name="ticket_unassigned_open",
            ),
            # "My tickets" in the same way (ticket_assignee_status cannot give them in order either).
            models.Index(
                fields=["assignee", "-created_at", "-id"],
                condition=Q(status__in=["new", "assigned", "in_progress", "waiting"]),
                name="ticket_assignee_open",
            ),
            # The overdue queue, newest first: the tickets being worked, in order, with their next due
            # time in the index, so the scan skips those not yet due without reading their rows.
            models.Index(
                F("created_at").desc(),
                F("id").desc(),
                next_due(),
                condition=Q(status__in=["new", "assigned", "in_progress"]),
                name="ticket_overdue_open",
            ),
            # The queues' sorts over all tickets (Managers' "all" view): by due time, by priority.
            models.Index(fields=["resolution_due", "id"], name="ticket_due"),
            models.Index(
                Case(
                    When(priority="low", then=Value(0)),
                    When(priority="normal", then=Value(1)),
                    When(priority="high", then=Value(2)),
                    When(priority="urgent", then=Value(3)),
                    default=Value(0),
                    output_field=models.IntegerField(),
                ),
                F("created_at"),
                F("id"),
                name="ticket_priority_rank",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def sla_met(self) -> bool:
        return not (self.first_response_breached or self.resolution_breached)


def attachment_path(step: Step, filename: str) -> str:
    return f"service/{step.ticket_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class Step(models.Model):
    """One entry of a ticket's process (服务过程详情): work done, an internal note, what was told to
    the customer, a hand-off to another team, or a status change made by an operation."""

    class Kind(models.TextChoices):
        WORK = "work", _("Work")
        NOTE = "note", _("Internal note")
        REPLY = "reply", _("Told the customer")
        HANDOFF = "handoff", _("Handed to another team")
        STATUS = "status", _("Status changed")
        SLA = "sla", _("SLA changed")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.WORK)
    content = models.TextField(_("what was done"), blank=True)
    result = models.CharField(_("result"), max_length=300, blank=True)
    happened_at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    minutes_spent = models.PositiveIntegerField(
        _("time spent (minutes)"), null=True, blank=True, validators=[MaxValueValidator(60 * 24)]
    )
    # Seen by the customer (a reply) or internal only: only replies count as the first response.
    to_customer = models.BooleanField(_("told to the customer"), default=False)
    from_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    old_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    new_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    attachment = models.FileField(_("attachment"), upload_to=attachment_path, blank=True, max_length=300)
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=60, blank=True)
    attachment_size = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ticket step")
        verbose_name_plural = _("ticket steps")
        ordering = ["happened_at", "pk"]
        default_permissions = ()  # written with the ticket's permissions
        indexes = [models.Index(fields=["ticket", "happened_at"], name="step_ticket_happened")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.happened_at:%Y-%m-%d %H:%M}"


# The summary tables (the dashboard's and churn after service's), in their own module (service/summary_models.py).
from .summary_models import (  # noqa: E402, F401
    TIME_BUCKETS,
    ChurnDay,
    ChurnLast,
    ChurnSpan,
    Measure,
    ServiceMonthTally,
    ServiceMonthTimeTally,
    ServiceOwnerMonthTally,
    ServiceOwnerMonthTimeTally,
    ServiceOwnerTally,
    ServiceOwnerTimeTally,
    ServiceTally,
    ServiceTimeTally,
    SummaryCounts,
)
