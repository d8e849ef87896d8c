from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = _("Follow-ups")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import history, planner  # noqa: F401 (planner: registers the outbox consumer that plans follow-ups)

        history.register()  # the policy page's changes in the audit trail (crm.audit_display)
