"""Creating, revoking and checking API tokens (api.models.ApiToken).

    create_token(name=, owner=, role=, by=, expires_at=None, allowed_ips="") -> (ApiToken, secret)
    revoke(token, *, by) -> None
    authenticate(secret, ip) -> User             (raises TokenRefused with the reason)

A token looks like ``crm_1a2b3c4d_<43 characters>``: its prefix finds the row, and the SHA-256 of
the whole token must match the stored hash (a token has 256 bits of randomness, so a plain hash is
enough; a slow password hash would cost every API call 100 ms). The secret exists only in the
answer to ``create_token``.

The caller acts as the token's user (``token_user``): the token's owner with exactly the permissions of the token's
role (crm.roles), never more than the owner holds (a superuser's token is no superuser), so every rule of the pages and
the operations applies unchanged and the audit trail names the owner, with the token's name.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import ipaddress
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit
from crm.roles import ROLE_LABELS, ROLE_PERMISSIONS

from .models import ApiToken

User = get_user_model()

PREFIX = "crm_"
# last_used_at is written at most once per this many seconds per token, not on every call.
LAST_USED_EVERY = 60


class TokenRefused(Exception):
    """Why a presented token does not log in (its message is safe to show to the caller)."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_ip_ranges(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The ranges of an "allowed IP ranges" field (one per line); ValidationError naming a bad line."""
    ranges = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            ranges.append(ipaddress.ip_network(line, strict=False))
        except ValueError:
            raise ValidationError(
                _("“%(value)s” is not an IP address or range (for example 203.0.113.7 or 203.0.113.0/24)."),
                params={"value": line},
                code="ip_range",
            ) from None
    return ranges


def create_token(*, name: str, owner, role: str, by, expires_at=None, allowed_ips: str = "") -> tuple[ApiToken, str]:
    """A new token and its secret (shown once; only its hash is kept). Audited."""
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"unknown role {role!r}")
    parse_ip_ranges(allowed_ips)
    if not owner.has_perms(ROLE_PERMISSIONS[role]):
        raise ValidationError(
            {
                "role": _("A token cannot do more than its owner: %(owner)s may not do everything a %(role)s may.")
                % {"owner": owner.get_username(), "role": ROLE_LABELS[role]}
            },
            code="role_above_owner",
        )
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(4)
            if not ApiToken.objects.filter(prefix=prefix).exists():
                break
        secret = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        token = ApiToken.objects.create(
            name=name,
            owner=owner,
            role=role,
            prefix=prefix,
            secret_hash=_hash(secret),
            allowed_ips="\n".join(line.strip() for line in allowed_ips.splitlines() if line.strip()),
            expires_at=expires_at,
            created_by=by,
        )
        audit.record(
            "api.token_create",
            actor=by,
            obj=token,
            summary=name,
            data={"owner": owner.get_username(), "role": role, "expires": expires_at.isoformat() if expires_at else ""},
        )
    return token, secret


def revoke(token: ApiToken, *, by) -> None:
    """The token stops working at once. Audited; revoking twice changes nothing."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit.record("api.token_revoke", actor=by, obj=locked, summary=locked.name)
    token.revoked_at, token.revoked_by = locked.revoked_at, by


def authenticate(secret: str, ip: str | None) -> User:
    """The user a presented token acts as; TokenRefused (with the reason) when it may not."""
    if not secret.startswith(PREFIX) or secret.count("_") < 2:
        raise TokenRefused(_("This is not an API token."))
    prefix = secret[len(PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("owner").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        raise TokenRefused(_("Unknown API token."))
    if token.revoked_at is not None:
        raise TokenRefused(_("This API token was revoked."))
    if token.is_expired:
        raise TokenRefused(_("This API token has expired."))
    if not token.owner.is_active:
        raise TokenRefused(_("The owner of this API token is deactivated."))
    ranges = parse_ip_ranges(token.allowed_ips)
    if ranges and not _ip_in(ip, ranges):
        raise TokenRefused(_("This API token may not be used from this address."))
    _note_use(token)
    return token_user(token)


def _ip_in(ip: str | None, ranges) -> bool:
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(address in network for network in ranges if network.version == address.version)


def _note_use(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_user(token: ApiToken):
    """The token's owner with exactly the permissions of the token's role (a copy: the owner's own
    object is untouched), carrying the token as ``api_token``."""
    owner = token.owner
    user = copy.copy(owner)
    user.is_superuser = False
    user.is_staff = False
    # Never more than the owner holds today (an owner moved to a lesser role takes the token along).
    user._perm_cache = set(ROLE_PERMISSIONS[token.role]) & owner.get_all_permissions()
    user.api_token = token
    user.scope_roles = [token.role]  # the token's role decides which cards it sees too (crm/scopes.py)
    return user
