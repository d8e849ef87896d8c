from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClosuresConfig(AppConfig):
    name = "closures"
    verbose_name = _("Closures")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import categories, history, inbox  # noqa: F401 (categories: its request cache's signal receivers)

        history.register()  # reasons, requests and settlements for the audit trail (crm.audit_display)
        inbox.register()  # approvals to decide and my decided requests in the to-do inbox (crm.inbox)
