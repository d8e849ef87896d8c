from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service records")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm import audit_display, jobs
        from customers import merge, owners, panels, since

        from . import card_panel, churn_summary, configure_history, exports, history, inbox, moves, tally
        from .operations import CLOSED_CARD_STATUSES

        panels.register(
            "service",
            template="service/_card_panel.html",
            permission="service.view_ticket",
            context=card_panel.context,
            order=50,
        )
        panels.register_action(
            "service.new",
            url_name="service:new",
            label=_("New ticket"),
            permission="service.add_ticket",
            when=lambda customer: customer.status not in CLOSED_CARD_STATUSES,
        )
        history.register()  # ticket events on the card's timeline, in the reader's language
        inbox.register()
        merge.register_mover(moves.merge_mover)
        since.on_change(churn_summary.refresh)  # the churn-after-service rows keep the card's "customer since"
        owners.on_change(tally.follow_owners)  # the owner summary follows a card that changes hands
        configure_history.register()
        for kind in exports.JOB_KINDS.values():
            jobs.register(kind, exports.run_export_job, permission="service.export_tickets")
        audit_display.register_value("ticket.export", "filters", exports.describe_filters)
