"""API tokens: how another system (finance, the shop, marketing) logs in to the API.

A token acts exactly like a user of its role (api.tokens.TokenUser): it may do what that role may,
as its owner (whom the audit trail names, with the token). Only a hash of its secret is kept: the
secret is shown once, when an Admin creates it.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.roles import ADMIN, MANAGER, ROLE_LABELS, STAFF


class ApiToken(models.Model):
    class Role(models.TextChoices):
        STAFF = STAFF, ROLE_LABELS[STAFF]
        MANAGER = MANAGER, ROLE_LABELS[MANAGER]
        ADMIN = ADMIN, ROLE_LABELS[ADMIN]

    name = models.CharField(_("name"), max_length=80, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("owner")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # The secret's first characters, kept to find the token and show which one a caller used.
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)  # SHA-256 of the whole token, hex
    allowed_ips = models.TextField(
        _("allowed IP ranges"),
        blank=True,
        help_text=_("One address or range (CIDR) per line, for example 203.0.113.0/24. Empty: any address."),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["name"]
        default_permissions = ()
        permissions = [("manage_tokens", _("Create and revoke API tokens"))]

    def __str__(self) -> str:
        return self.name

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class ApiCall(models.Model):
    """One call made with a token: the token's log, shown on its page and kept API_CALL_LOG_DAYS
    (api.middleware.CallLog writes it; changes made by a call are also in the audit trail, naming
    the token)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="calls")
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField()
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        indexes = [
            models.Index(fields=["token", "-at"], name="apicall_token_at"),
            models.Index(fields=["at"], name="apicall_at"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class IdempotencyKey(models.Model):
    """A write sent with an ``Idempotency-Key`` header, and its answer (api.idempotency).

    The row is inserted before the write runs, in the write's transaction, so a second request with
    the same key waits for the first one's outcome instead of running the write again; kept 24 hours.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)  # SHA-256 of method, path and the parsed body, hex
    status = models.PositiveSmallIntegerField(null=True)  # None while the first request runs
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.method} {self.path})"


STORED = "i18n:"


def stored_message(message: str, **params) -> str:
    """A message kept in a row (a delivery's error) as its untranslated text and parameters, so that
    each reader sees it in their own language (``shown_message``), not in the sender's."""
    return STORED + json.dumps([message, params], ensure_ascii=False)


def shown_message(text: str) -> str:
    """A kept message in the active language; other text (an HTTP status, an exception) as it is."""
    if not text.startswith(STORED):
        return text
    try:
        message, params = json.loads(text[len(STORED) :])
        return gettext(message) % params if params else gettext(message)
    except (ValueError, TypeError, KeyError):
        return text


class WebhookEndpoint(models.Model):
    """A URL of another system that hears of the events it subscribed to (api/delivery.py sends them).

    The secret signs every delivery (Standard Webhooks: ``whsec_`` + base64 of 32 random bytes). It
    has to be kept as it is to sign, so unlike an API token it is stored, and shown to Admins once,
    when the endpoint is made or its secret rotated.
    """

    class Disabled(models.TextChoices):
        NO = "", _("enabled")
        BY_ADMIN = "admin", _("disabled by an Admin")
        FAILURES = "failures", _("disabled after repeated failures")

    name = models.CharField(_("name"), max_length=80)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(max_length=80)
    events = models.JSONField(_("events"), default=list, blank=True)
    fields = models.JSONField(_("changed fields"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Since when it hears of events: made, or enabled again. Events from before are not sent to it.
    enabled_at = models.DateTimeField(_("listening since"), default=timezone.now)
    disabled_reason = models.CharField(_("why disabled"), max_length=10, choices=Disabled.choices, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    failing_since = models.DateTimeField(null=True, blank=True)  # the first failure of the current streak
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]
        default_permissions = ()
        permissions = [("manage_webhooks", _("Manage webhook endpoints and their deliveries"))]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str, changed: list[str] | None = None, at=None) -> bool:
        """Whether this endpoint hears of an event of ``event_type`` that happened ``at`` (a card.updated
        one: when one of its chosen fields is among ``changed``, or it chose none). Not of one from
        before it was made or last enabled."""
        if event_type not in self.events or (at is not None and at < self.enabled_at):
            return False
        if event_type == "card.updated" and self.fields:
            return bool(set(self.fields) & set(changed or ()))
        return True


class WebhookDelivery(models.Model):
    """One event for one endpoint: its body is built once, when the event is fanned out, so every
    attempt (and a redelivery) sends the same bytes. Sent in order per (endpoint, card)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("crm.Event", on_delete=models.CASCADE, related_name="+")
    customer_id = models.BigIntegerField(null=True, blank=True)
    type = models.CharField(_("event"), max_length=60)
    body = models.TextField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True, default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)  # a sender's lease (api/delivery.py)
    last_status_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    last_error = models.CharField(_("error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhookdelivery_endpoint_event")]
        indexes = [
            # What is due: the sender's scan (pending only, so it stays small however long the log is).
            models.Index(
                fields=["next_attempt_at", "id"],
                name="webhookdelivery_due",
                condition=models.Q(status="pending"),
            ),
            # The head of each line: the oldest pending delivery per (endpoint, card).
            models.Index(
                fields=["endpoint", "customer_id", "id"],
                name="webhookdelivery_line",
                condition=models.Q(status="pending"),
            ),
            # The log page (newest first) and the retention sweep.
            models.Index(fields=["endpoint", "-id"], name="webhookdelivery_log"),
            models.Index(fields=["status", "delivered_at"], name="webhookdelivery_done"),
        ]

    def __str__(self) -> str:
        return f"{self.type} → {self.endpoint_id} ({self.status})"

    @property
    def message_id(self) -> str:
        """The ``webhook-id`` header and the envelope's ``id``: the same for every attempt."""
        return f"evt_{self.event_id}"

    @property
    def shown_error(self) -> str:
        """The last attempt's error in the reader's language."""
        return shown_message(self.last_error)


class WebhookAttempt(models.Model):
    """One try of a delivery, for the log: when, the answer's status and how long it took, or the error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField(_("when"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["delivery", "-id"], name="webhookattempt_delivery")]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.at:%Y-%m-%d %H:%M:%S} {self.status_code or shown_message(self.error)}"
