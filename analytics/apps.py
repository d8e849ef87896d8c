from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class _BitOr:
    """SQLite's BIT_OR aggregate (PostgreSQL has its own): the churn-after-service figures'
    per-customer masks (analytics/service_churn.py) run as one query on both databases."""

    def __init__(self):
        self.value = 0

    def step(self, value):
        if value is not None:
            self.value |= value

    def finalize(self):
        return self.value


def _sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("BIT_OR", 1, _BitOr)


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(_sqlite_functions, dispatch_uid="analytics.sqlite_functions")
        from crm import audit, audit_display, jobs
        from crm.models import Job

        from . import exports

        audit_display.register_value("closures.export", "filters", exports.describe_filters)
        audit_display.register_value("closures.export", "drill", exports.describe_drill)
        audit.ACTION_LABELS["service.analytics_export"] = _("Service figures exported")
        audit.ACTION_LABELS["analytics.churn_warning_export"] = _("Churn-warning figures exported")

        # Large closure exports run as jobs (crm.jobs): same runner for both formats.
        for kind in (Job.Kind.CLOSURES_XLSX, Job.Kind.CLOSURES_CSV):
            jobs.register(kind, exports.run_export_job, permission="closures.export_closures")
