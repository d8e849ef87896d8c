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
        from . import schema  # noqa: F401  (registers the OpenAPI descriptions of the authentications)
