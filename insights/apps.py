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
        from customers.models import Customer

        # actions: its audit labels; closure_values: the outbox consumer
        from . import actions, card_panel, closure_values, exports, inbox, search_filters  # noqa: F401

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
        active = lambda customer: customer.status == Customer.Status.ACTIVE  # noqa: E731
        for name, label in (
            ("plan_callback", _("Plan a retention callback")),
            ("log_attempt", _("Log a retention attempt")),
        ):
            panels.register_action(
                f"insights.{name}",
                url_name=f"insights:{name}",
                label=label,
                permission="insights.add_retentionaction",
                when=active,
                order=60,
            )
        inbox.register()  # customers newly at risk and retention callbacks due in the to-do inbox (crm.inbox)
