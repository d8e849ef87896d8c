"""The project's own system checks that are crm's business (registered in CrmConfig.ready)."""

from django.conf import settings
from django.core import checks

from . import crypto


def check_field_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``check --deploy`` (and so ``make serve``): the encryption keys of sensitive fields are set.

    Derived from SECRET_KEY they work, but changing SECRET_KEY (after a leak, say) would make every
    encrypted value unreadable and every keyed hash stale; production sets its own keys."""
    if settings.DEBUG:
        return []
    unset = crypto.derived_settings()
    if not unset:
        return []
    return [
        checks.Warning(
            f"{' and '.join(unset)} not set: the keys of the encrypted card fields are derived from SECRET_KEY.",
            hint="Set them (docs/deployment.md, 'Keys of the encrypted fields'); changing SECRET_KEY would "
            "otherwise make the encrypted values unreadable.",
            id="crm.W001",
        )
    ]
