from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service records")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from customers import merge

        from . import configure_history, moves

        merge.register_mover(moves.merge_mover)
        configure_history.register()
