from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """Churn early warning and customer value (issue 21): scores kept per customer, read by the card,
    the lists and the dashboards. Floor 5: it reads the cards, tickets, closures and follow-ups."""

    name = "insights"
    verbose_name = _("Churn warning and customer value")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm import audit_display, jobs
        from customers import panels

        # actions: its audit labels; closure_values: the outbox consumer
        from . import actions, card_panel, closure_values, exports, search_filters  # noqa: F401

        search_filters.register()  # risk band, RFM segment and value band in the customer search
        jobs.register(exports.JOB_KIND, exports.run_export_job, permission="insights.export_scores")
        audit_display.register_value(exports.AUDIT_ACTION, "filters", exports.describe_filters)

        panels.register(
            "insights",
            template="insights/_card_panel.html",
            permission="insights.view_score",
            context=card_panel.context,
            order=40,
        )
