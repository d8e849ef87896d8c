from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = _("Follow-ups")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            improvements,  # noqa: F401 (the improvement actions' audit labels)
            planner,  # noqa: F401 (registers the outbox consumer that plans follow-ups)
        )
