from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClosuresConfig(AppConfig):
    name = "closures"
    verbose_name = _("Closures")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from customers import owners
        from service import churn_flag

        from . import categories, history, inbox, ticket_flags, writes  # noqa: F401 (categories: its cache's receivers)

        owners.on_change(writes.follow_owners)  # a closure's card_owner follows its card (data scopes)
        history.register()  # reasons, requests and settlements for the audit trail (crm.audit_display)
        inbox.register()  # approvals to decide and my decided requests in the to-do inbox (crm.inbox)
        churn_flag.register(
            value=ticket_flags.value, refresh=ticket_flags.refresh, closures=ticket_flags.closures_of
        )  # Ticket.closed_within_90
