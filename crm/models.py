"""The audit trail and background jobs.

The audit trail: an append-only record of every change and every closure event.

It lives in crm/ because every app writes to it (customer edits, closures, exports,
logins) and apps depend on crm, never the other way round. The customer is kept as a
plain id rather than a foreign key so that crm does not depend on customers and an
entry can never be lost with the row it describes.
"""

import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .formatting import in_language

ERASED_MARKER = "[erased]"
# The columns of an audit entry that may hold personal values (redacted on erasure).
REDACTED_FIELDS = ("changes", "data", "notes", "summary", "reason")


def _now():
    # Looked up at call time (not captured as timezone.now), so seed_demo can date its history.
    return timezone.now()


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("Audit entries are append-only.")

    def delete(self):
        raise PermissionDenied("Audit entries are append-only.")

    def for_customer(self, customer_id: int) -> "AuditQuerySet":
        return self.filter(customer_id=customer_id)

    def redact_customer(self, customer_id: int, personal_values: list[str]) -> int:
        """Replace every personal value of an erased customer in its entries with a marker."""
        return self.filter(customer_id=customer_id).redact(personal_values)

    def redact(self, personal_values: list[str]) -> int:
        """Replace these personal values with a marker in these entries; returns how many changed.

        The one sanctioned change to audit rows, used only by erasure inside its transaction
        (closures.erasure for the card's own entries, crm.forget for entries that quote a card
        without being tied to it). On PostgreSQL the append-only trigger lets it through only
        while ``crm.audit_redaction`` is set for the current transaction.
        """
        values = sorted({str(v) for v in personal_values if v and len(str(v)) >= 2}, key=len, reverse=True)
        if not values:
            return 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL crm.audit_redaction = 'on'")
        count = 0
        for entry in self.only("pk", *REDACTED_FIELDS).iterator(chunk_size=500):
            before = {name: getattr(entry, name) for name in REDACTED_FIELDS}
            after = {name: redact_value(value, values) for name, value in before.items()}
            if after != before:
                models.QuerySet.update(AuditEntry.objects.filter(pk=entry.pk), **after)
                count += 1
        return count


def redact_value(value, personal_values):
    if isinstance(value, str):
        for personal in personal_values:
            value = value.replace(str(personal), ERASED_MARKER)
        return value
    if isinstance(value, list):
        return [redact_value(v, personal_values) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v, personal_values) for k, v in value.items()}
    return value


class AuditEntry(models.Model):
    at = models.DateTimeField(_("when"), default=_now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=40, db_index=True)
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    customer_id = models.BigIntegerField(_("customer"), null=True, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # What the entry is about, as data rendered in the reader's language when read (crm.audit):
    # the source of a card change, the reason's id, who requested a closure...
    data = models.JSONField(_("details"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer_id", "at"], name="audit_customer_at"),
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionDenied("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Audit entries are append-only.")


class Job(models.Model):
    """A long piece of work (a large export or import, a bulk closure) run by crm.jobs.

    Generic so that every app can run jobs without depending on another: an app registers
    a runner for its kinds (crm.jobs.register) and crm runs it on Celery or in-process.
    """

    class Kind(models.TextChoices):
        CLOSURES_XLSX = "closures_xlsx", _("Closures export (Excel)")
        CLOSURES_CSV = "closures_csv", _("Closures export (CSV)")
        CUSTOMERS_XLSX = "customers_xlsx", _("Customers export (Excel)")
        CUSTOMERS_CSV = "customers_csv", _("Customers export (CSV)")
        CUSTOMERS_IMPORT = "customers_import", _("Customer import")
        TICKETS_XLSX = "tickets_xlsx", _("Tickets export (Excel)")
        TICKETS_CSV = "tickets_csv", _("Tickets export (CSV)")
        AT_RISK_XLSX = "at_risk_xlsx", _("Customers at risk export (Excel)")
        PRIVACY_ACCESS = "privacy_access", _("Personal-data access export")
        PRIVACY_RETENTION = "privacy_retention", _("Retention run")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.progress * 100 / self.total))


class InboxSeen(models.Model):
    """When a user last looked at one source of their inbox (crm/inbox.py): what was decided,
    assigned or raised after it counts as new. One row per user and source key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=60)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="inboxseen_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key} {self.seen_at:%Y-%m-%d %H:%M}"


class Event(models.Model):
    """One thing that happened, written by the operation that made it happen in its own transaction
    (the outbox, crm/outbox.py): a closure rolled back leaves no event, so nothing downstream
    (follow-ups, webhooks, scores) happens for it. Consumers record what they handled (EventReceipt)."""

    type = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=_now)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["type", "id"], name="event_type_id")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk} ({self.object_type} {self.object_id})"


class EventReceipt(models.Model):
    """That consumer ``consumer`` has handled event ``event`` (crm/outbox.py): one row each, so a
    consumer is never handed an event twice and an event committed late is not skipped."""

    consumer = models.CharField(max_length=40)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="receipts")
    handled_at = models.DateTimeField(default=_now)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["consumer", "event"], name="eventreceipt_consumer_event")]

    def __str__(self) -> str:
        return f"{self.consumer} {self.event_id}"


class OutboxFloor(models.Model):
    """Below ``event_id`` consumer ``consumer`` has handled every event (crm/outbox.py): the scan for
    unhandled events starts there, so it stays short however long the outbox grows."""

    consumer = models.CharField(max_length=40, primary_key=True)
    event_id = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.consumer} > {self.event_id}"


class Team(models.Model):
    """A department that works tickets together (service desk, after-sales, billing ...). Teams live
    here, at the bottom floor, because more than one app groups people by them: tickets are queued
    by team (service/), and data scopes (crm/scopes.py) show a team's cards to its members and manager."""

    name_en = models.CharField(_("name (English)"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", verbose_name=_("members")
    )
    active = models.BooleanField(_("active"), default=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
        help_text=_("Sees the cards of the team's members when Managers are scoped to their teams."),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name_en"]
        constraints = [models.UniqueConstraint(fields=["name_en"], name="team_name_en_unique")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the language of the page."""
        return in_language(self.name_en, self.name_zh)


class DataScope(models.Model):
    """Which cards the people of a role see (数据范围): their own, their teams', or all of them.

    One row per scoped role (Staff, Manager); a role without a row sees all cards, so nothing
    changes on an existing install until an Admin sets a scope. Admins always see every card.
    Applied by crm/scopes.py to every read path of a card.
    """

    class Scope(models.TextChoices):
        OWN = "own", _("Their own cards")
        TEAM = "team", _("Their teams' cards")
        ALL = "all", _("All cards")

    role = models.CharField(_("role"), max_length=20, unique=True)
    scope = models.CharField(_("sees"), max_length=8, choices=Scope.choices, default=Scope.ALL)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data scope")
        verbose_name_plural = _("data scopes")
        default_permissions = ()
        permissions = [("manage_data_scopes", _("Manage data scopes"))]

    def __str__(self) -> str:
        return f"{self.role}: {self.scope}"
