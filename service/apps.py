from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service records")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from customers import panels

        from . import card_panel, history, inbox
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
