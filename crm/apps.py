from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import roles, signals  # noqa: F401 (signals: logins, failed logins and lockouts in the audit trail)
        from .checks import check_field_keys

        checks.register(check_field_keys, checks.Tags.security, deploy=True)

        # Runs after every `migrate` (and when the test database is built), so the three
        # groups always carry exactly the permissions of the matrix in crm/roles.py.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="crm.sync_roles")
