"""Who may use the webhook pages under /integration/ (Admins only: api.manage_webhooks)."""

from .routes import ADMINS, Route

ENDPOINT = {"name": "Shop", "url": "https://93.184.216.34/crm", "events": ["card.closed", "card.updated"]}

ROUTES = [
    Route("integration:webhook_list", ADMINS),
    Route("integration:webhook_add", ADMINS),
    Route("integration:webhook_add", ADMINS, method="POST", data=lambda w: ENDPOINT),  # 200: the secret, once
    Route("integration:webhook_edit", ADMINS, kwargs=lambda w: {"pk": w.webhook.pk}),
    Route(
        "integration:webhook_edit",
        ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.webhook.pk},
        data=lambda w: {**ENDPOINT, "enabled": "on"},
        ok=(302,),
    ),
    Route("integration:webhook_test", ADMINS, method="POST", kwargs=lambda w: {"pk": w.webhook.pk}, ok=(302,)),
    Route("integration:webhook_rotate", ADMINS, method="POST", kwargs=lambda w: {"pk": w.webhook.pk}),
    Route("integration:webhook_log", ADMINS, kwargs=lambda w: {"pk": w.webhook.pk}),
    Route(
        "integration:webhook_redeliver",
        ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.webhook.pk, "delivery_pk": w.webhook_delivery.pk},
        ok=(302,),
    ),
]
