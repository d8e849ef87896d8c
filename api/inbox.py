"""What the webhooks put into the Admins' to-do inbox (crm/inbox.py), registered in ApiConfig.ready():
"api.webhooks_disabled", the endpoints the sender disabled after repeated failures (api/delivery.py),
until an Admin enables them again. One query on a table of a handful of rows."""

from django.utils.translation import gettext_lazy as _

from crm import inbox

from .delivery import DISABLED_SOURCE
from .models import WebhookEndpoint


def disabled_by_failures():
    return WebhookEndpoint.objects.filter(enabled=False, disabled_reason=WebhookEndpoint.Disabled.FAILURES)


def register() -> None:
    inbox.register(
        inbox.Source(
            key=DISABLED_SOURCE,
            label=_("Webhook endpoints disabled after failures"),
            permission="api.manage_webhooks",
            url="integration:webhook_list",
            count=lambda user: disabled_by_failures().count(),
        )
    )
