from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Personal-data requests (PIPL / GDPR): the register of access, correction and erasure requests
    and the access export; data retention (rules, their preview and runs) and legal holds. Floor 6:
    it reads every app below it to export what they hold about a card."""

    name = "privacy"
    verbose_name = _("Personal-data requests")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from closures import erasure
        from crm import forget, jobs
        from customers import panels

        from . import exports, holds, requests, retention_runs  # noqa: F401 (requests: its audit labels)

        forget.register(requests.forget_values)  # an erasure from the card also clears the register's notes
        forget.register(holds.forget_values)  # ... and the legal holds' reasons
        erasure.register_check(holds.refuse_erasure)  # a card under a legal hold is not erased
        jobs.register(retention_runs.JOB_KIND, retention_runs.run_job, permission=retention_runs.PERMISSION)
        jobs.register(exports.JOB_KIND, exports.run_job, permission="privacy.manage_datarequest", own_download=True)
        panels.register_action(
            "privacy.register",
            url_name="privacy:register",
            label=_("Register a personal-data request"),
            permission="privacy.manage_datarequest",
            order=90,
        )
        panels.register_action(
            "privacy.hold",
            url_name="privacy:hold",
            label=_("Place a legal hold"),
            permission="privacy.manage_retention",
            when=lambda customer: not customer.is_erased,
            order=91,
        )
        panels.register(
            "privacy.hold",
            template="privacy/_hold_panel.html",
            permission="privacy.manage_retention",
            context=lambda request, customer: {"hold": holds.active_hold(customer)},
            order=5,
        )
