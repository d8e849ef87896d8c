from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm import audit, audit_display, jobs
        from crm.models import Job

        from . import exports

        audit_display.register_value("closures.export", "filters", exports.describe_filters)
        audit.ACTION_LABELS["service.analytics_export"] = _("Service figures exported")

        # Large closure exports run as jobs (crm.jobs): same runner for both formats.
        for kind in (Job.Kind.CLOSURES_XLSX, Job.Kind.CLOSURES_CSV):
            jobs.register(kind, exports.run_export_job, permission="closures.export_closures")
