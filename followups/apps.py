from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = _("Follow-ups")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from closures import signals
        from customers import panels

        from . import (
            callbacks_display,
            card_panel,
            history,
            improvements,  # noqa: F401 (the improvement actions' audit labels)
            inbox,
            planner,  # noqa: F401 (registers the outbox consumer that plans follow-ups)
            policy_history,
            summary,
        )

        panels.register(
            "followups",
            template="followups/_card_panel.html",
            permission="followups.view_followup",
            context=card_panel.context,
        )
        inbox.register()
        callbacks_display.register()
        history.register()  # the customer's answers on the timeline
        policy_history.register()  # the policy page's changes in the audit trail
        signals.recategorised.connect(summary.recategorise, dispatch_uid="followups.summary")
