"""The personal-data request register (个人信息请求, PIPL / GDPR): what a customer asked, when it
came in, who checked their identity, when it is due and how it was answered.

A request outlives the card it is about: an erased card (the answer to an erasure request) keeps
its row, so the register still shows the request was answered in time; the card number is kept
as text too, for a card that is ever gone. The changes themselves are made by the operations in
privacy/requests.py, never by saving a model here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Customer


class DataRequestQuerySet(models.QuerySet):
    def open(self) -> DataRequestQuerySet:
        return self.filter(state=DataRequest.State.OPEN)

    def overdue(self, today=None) -> DataRequestQuerySet:
        """Open requests past their due date."""
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def closed(self) -> DataRequestQuerySet:
        return self.exclude(state=DataRequest.State.OPEN)


class DataRequest(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("Access")
        CORRECTION = "correction", _("Correction")
        ERASURE = "erasure", _("Erasure")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("personal-data request", "Open")
        DONE = "done", pgettext_lazy("personal-data request", "Answered")
        REFUSED = "refused", pgettext_lazy("personal-data request", "Refused")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="data_requests"
    )
    customer_no = models.CharField(_("customer number"), max_length=32)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    received_on = models.DateField(_("received on"))
    notes = models.TextField(_("how it came in"), blank=True)
    due_on = models.DateField(_("due date"))
    identity_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("identity checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    identity_checked_at = models.DateTimeField(_("identity checked at"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    done_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.TextField(_("outcome"), blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)

    objects = DataRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal-data request")
        verbose_name_plural = _("personal-data requests")
        ordering = ["due_on", "-id"]
        default_permissions = ()
        permissions = [("manage_datarequest", _("Register and answer personal-data requests"))]
        indexes = [models.Index(fields=["state", "due_on"], name="datarequest_state_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer_no} {self.received_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_on < timezone.localdate()

    @property
    def identity_checked(self) -> bool:
        return self.identity_checked_at is not None


class RetentionRule(models.Model):
    """How long a closed, void or archived card keeps its personal data (数据保留期限).

    One row per (status, action), created by a migration and switched off: nothing is erased until an
    Admin switches a rule on (privacy/retention.py runs them). The age of a card is counted from its
    closure in force (``Closure.performed_at``), the day it became closed, void or archived.
    """

    class Act(models.TextChoices):
        ERASE = "erase", _("Anonymise")
        WIPE_NOTES = "wipe_notes", _("Wipe interaction notes")
        REVIEW = "review", _("List for review")

    STATUSES = [
        (Customer.Status.CLOSED.value, Customer.Status.CLOSED.label),
        (Customer.Status.VOID.value, Customer.Status.VOID.label),
        (Customer.Status.ARCHIVED.value, Customer.Status.ARCHIVED.label),
    ]

    status = models.CharField(_("cards"), max_length=10, choices=STATUSES)
    action = models.CharField(_("action"), max_length=12, choices=Act.choices)
    after_months = models.PositiveSmallIntegerField(_("after (months)"))
    enabled = models.BooleanField(_("switched on"), default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["id"]
        default_permissions = ()
        permissions = [("manage_retention", _("Manage data retention and legal holds"))]
        constraints = [models.UniqueConstraint(fields=["status", "action"], name="retentionrule_one_per_action")]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.get_action_display()} ({self.after_months})"


class LegalHoldQuerySet(models.QuerySet):
    def active(self) -> LegalHoldQuerySet:
        return self.filter(released_at__isnull=True)


class LegalHold(models.Model):
    """A card kept out of every retention run and of erasure (法律保留): a dispute, an audit, a court
    order. Placed and released by Admins with a reason; a released hold stays as a record."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = models.TextField(_("reason"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("placed by"), on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_note = models.TextField(_("why released"), blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-placed_at", "-id"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(released_at__isnull=True), name="legalhold_one_active_per_card"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.reason[:40]}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None
