from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service records")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm import audit_display, jobs
        from customers import merge

        from . import configure_history, exports, moves

        merge.register_mover(moves.merge_mover)
        configure_history.register()
        for kind in exports.JOB_KINDS.values():
            jobs.register(kind, exports.run_export_job, permission="service.export_tickets")
        audit_display.register_value("ticket.export", "filters", exports.describe_filters)
