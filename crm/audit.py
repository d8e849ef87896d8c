"""Writing the audit trail. Called explicitly by operations and views, never from signals."""

from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from .middleware import client_ip
from .models import AuditEntry

__all__ = ["ACTION_LABELS", "client_ip", "diff", "record"]

# What each audit action means, in words (the audit page and the card timeline show these).
ACTION_LABELS = {
    "customer.create": _("Card created"),
    "customer.update": _("Card edited"),
    "customer.import": _("Customers imported"),
    "customer.export": _("Customers exported"),
    "interaction.create": _("Interaction logged"),
    "purchase.create": _("Purchase added"),
    "closure.close": _("Card closed"),
    "closure.void": _("Record voided"),
    "closure.archive": _("Card archived"),
    "closure.erase": _("Personal data deleted"),
    "closure.reinstate": _("Card reinstated"),
    "closure.request": _("Closure requested"),
    "closure.approve": _("Closure approved"),
    "closure.reject": _("Closure rejected"),
    "closure.withdraw": _("Closure request withdrawn"),
    "closures.export": _("Closures exported"),
    "job.download": _("Export downloaded"),
    "reason.create": _("Reason created"),
    "reason.update": _("Reason changed"),
    "settings.update": _("Settings changed"),
    "user.create": _("User created"),
    "user.update": _("User changed"),
    "user.reset_link": _("Password-reset link sent"),
    "auth.login": _("Logged in"),
    "auth.login_failed": _("Failed log-in"),
    "auth.locked_out": _("Locked out"),
}


def _plain(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Model):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "all"):  # a related manager or queryset (tags)
        return ", ".join(sorted(str(v) for v in value.all()))
    if isinstance(value, list | tuple | set):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value changed."""
    changes = {}
    for field, new in after.items():
        old = _plain(before.get(field))
        new = _plain(new)
        if old != new:
            changes[field] = [old, new]
    return changes


def record(
    action: str,
    *,
    actor=None,
    request=None,
    obj: Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    customer_id: int | None = None,
    summary: str = "",
    changes: dict | None = None,
    reason: str = "",
    notes: str = "",
    data: dict | None = None,
) -> AuditEntry:
    """Append one entry. ``actor`` defaults to the request's user."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or obj.pk
    return AuditEntry.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_name=(actor.get_username() if actor is not None else ""),
        ip=client_ip(request),
        object_type=object_type,
        object_id=str(object_id or ""),
        customer_id=customer_id,
        summary=summary[:300],
        changes=changes or {},
        data=data or {},
        reason=str(reason)[:200],
        notes=notes,
    )
