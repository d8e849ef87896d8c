"""A webhook endpoint (on a literal public address: no DNS in the walk) and one delivery of it."""

from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks import new_secret
from crm.models import Event


def extend(world) -> None:
    world.webhook = WebhookEndpoint.objects.create(
        name="Finance", url="https://93.184.216.34/hooks", secret=new_secret(), events=["card.closed"]
    )
    event = Event.objects.create(type="card.closed", customer_id=world.customer.pk)
    world.webhook_delivery = WebhookDelivery.objects.create(
        endpoint=world.webhook,
        event=event,
        customer_id=world.customer.pk,
        type=event.type,
        body="{}",
        status=WebhookDelivery.Status.DELIVERED,
    )
