from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """Integration (issue 22): the REST API under /api/v1/, its tokens, and the webhooks that carry the
    outbox's events to other systems. Floor 8, the top: it reads every app below through their
    operations and never writes a card or a closure any other way."""

    name = "api"
    verbose_name = _("Integration")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm import audit

        # schema: the OpenAPI descriptions of the authentications; webhooks: the outbox consumer "webhooks"
        from . import inbox, schema, webhooks  # noqa: F401

        inbox.register()
        audit.ACTION_LABELS.update(
            {
                "api.token_create": _("API token created"),
                "api.token_revoke": _("API token revoked"),
                "webhook.create": _("Webhook endpoint added"),
                "webhook.update": _("Webhook endpoint changed"),
                "webhook.rotate": _("Webhook secret rotated"),
                "webhook.test": _("Webhook test event sent"),
                "webhook.redeliver": _("Webhook delivery sent again"),
                "webhook.disable": _("Webhook endpoint disabled after failures"),
            }
        )
