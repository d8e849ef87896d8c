"""API tokens: how another system (finance, the shop, marketing) logs in to the API.

A token acts exactly like a user of its role (api.tokens.TokenUser): it may do what that role may,
as its owner (whom the audit trail names, with the token). Only a hash of its secret is kept: the
secret is shown once, when an Admin creates it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
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
