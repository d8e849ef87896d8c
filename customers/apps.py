from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from .search import check_database_locale

        # pg_trgm ignores non-ASCII characters under LC_CTYPE=C: Chinese name search would miss.
        checks.register(check_database_locale, checks.Tags.database)

        from crm import audit_display, jobs
        from crm.models import Job

        from . import exports, history, imports

        history.register()  # the card's fields and choices for the audit trail (crm.audit_display)
        audit_display.register_value("customer.export", "filters", exports.describe_search)

        for kind in (Job.Kind.CUSTOMERS_XLSX, Job.Kind.CUSTOMERS_CSV):
            jobs.register(kind, exports.run_export_job, permission="customers.export_customers")
        jobs.register(Job.Kind.CUSTOMERS_IMPORT, imports.run_import_job, permission="customers.import_customers")
