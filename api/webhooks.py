"""Webhook endpoints: what Admins do with them, and the outbox consumer that fans events out to them.

    create_endpoint(*, name, url, events, fields, by, request=None) -> (WebhookEndpoint, secret)
    update_endpoint(endpoint, *, name, url, events, fields, enabled, by, request=None) -> WebhookEndpoint
    rotate_secret(endpoint, *, by, request=None) -> secret
    send_test(endpoint, *, by, request=None) -> WebhookDelivery
    redeliver(delivery, *, by, request=None) -> WebhookDelivery

Each is atomic, audited (never with the secret) and checks the URL against api/ssrf.py. The sending
itself is api/delivery.py; it is kicked after the commit of whatever made a delivery due (``kick``).

**Fan-out.** The outbox consumer "webhooks" (crm/outbox.py) receives the card.* and closure.* events
some enabled endpoint subscribed to (``subscribed``: with no endpoint, an import's 100,000 card
events are not even read) once they commit, and writes one WebhookDelivery per enabled endpoint
that subscribed to its type (a card.updated only where a chosen field changed, if the endpoint chose
fields), with the envelope's JSON (api/envelopes.py). ``(endpoint, event)`` is unique, so an event
handed over twice makes no second delivery. An endpoint hears of the events that happened while it
was enabled (``enabled_at``), whenever they are fanned out: none from before it was made, or from
while it was disabled.
A ``card.erased`` event also strips every delivery of that card kept so far (waiting or in the log)
down to the card's number: the erased card's personal data must not linger in the webhook log.
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit, inbox, outbox
from crm.models import Event
from customers.gate import CARD_FIELDS

from . import delivery, envelopes, ssrf
from .models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _check(name: str, url: str, events: list[str], fields: list[str]) -> None:
    ssrf.check_url(url)
    unknown = set(events) - set(envelopes.TYPES)
    if unknown:
        raise ValidationError(_("Unknown events: %(events)s.") % {"events": ", ".join(sorted(unknown))})
    if not events:
        raise ValidationError(_("Choose at least one event."), code="events")
    unknown = set(fields) - set(CARD_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown card fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})


def create_endpoint(*, name: str, url: str, events: list[str], fields: list[str], by, request=None):
    """A new enabled endpoint and its secret (returned here, and never shown again)."""
    _check(name, url, events, fields)
    secret = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            name=name, url=url, secret=secret, events=list(events), fields=list(fields), created_by=by
        )
        audit.record(
            "webhook.create",
            actor=by,
            request=request,
            obj=endpoint,
            summary=name,
            data={"url": url, "events": endpoint.events, "fields": endpoint.fields},
        )
    return endpoint, secret


def update_endpoint(endpoint, *, name, url, events, fields, enabled: bool, by, request=None) -> WebhookEndpoint:
    """Change an endpoint. Enabling it again clears its failure streak and sends what waited at once."""
    _check(name, url, events, fields)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = {"name": locked.name, "url": locked.url, "events": locked.events, "fields": locked.fields}
        before["enabled"] = locked.enabled
        locked.name, locked.url, locked.events, locked.fields = name, url, list(events), list(fields)
        was_enabled, locked.enabled = locked.enabled, enabled
        if enabled and not was_enabled:
            locked.disabled_reason, locked.disabled_at = WebhookEndpoint.Disabled.NO, None
            locked.enabled_at = timezone.now()  # it hears of what happens from now on, not while it was off
            locked.consecutive_failures, locked.failing_since = 0, None
            locked.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(next_attempt_at=timezone.now())
            transaction.on_commit(kick)
        elif was_enabled and not enabled:
            locked.disabled_reason, locked.disabled_at = WebhookEndpoint.Disabled.BY_ADMIN, timezone.now()
        locked.save()
        after = {"name": name, "url": url, "events": locked.events, "fields": locked.fields, "enabled": enabled}
        changes = audit.diff(before, after)
        if changes:
            audit.record("webhook.update", actor=by, request=request, obj=locked, summary=name, changes=changes)
        if was_enabled != enabled:
            inbox.changed("api.webhooks_disabled")
    return locked


def rotate_secret(endpoint, *, by, request=None) -> str:
    """A new secret for the endpoint, used from the next attempt on; the old one stops signing at once."""
    secret = new_secret()
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret)
        audit.record("webhook.rotate", actor=by, request=request, obj=endpoint, summary=endpoint.name)
    endpoint.secret = secret
    return secret


def send_test(endpoint, *, by, request=None) -> WebhookDelivery:
    """A ``webhook.test`` event for this endpoint only (enabled or not: a disabled one is sent it too,
    so an Admin can see the receiver answer before enabling it again)."""
    with transaction.atomic():
        event = Event.objects.create(
            type=envelopes.TEST_EVENT, object_type="webhookendpoint", object_id=str(endpoint.pk), actor=by
        )
        event.actor = by
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event=event, type=event.type, body=envelopes.test_body(event, endpoint)
        )
        audit.record("webhook.test", actor=by, request=request, obj=endpoint, summary=endpoint.name)
        transaction.on_commit(kick)
    return delivery


def redeliver(delivery: WebhookDelivery, *, by, request=None) -> WebhookDelivery:
    """Send a delivery again (its same bytes, signed anew), with a fresh set of attempts; it takes
    its place in its card's line again, so later events of the card wait for it."""
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        locked.status = WebhookDelivery.Status.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.claimed_until = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_until"])
        audit.record(
            "webhook.redeliver",
            actor=by,
            request=request,
            object_type="webhookdelivery",
            object_id=locked.pk,
            customer_id=locked.customer_id,
            summary=f"{locked.type} evt_{locked.event_id}",
        )
        transaction.on_commit(kick)
    return locked


# --- Fan-out -------------------------------------------------------------------------------------------


def subscribed() -> set[str]:
    """The event types some enabled endpoint chose, and ``card.erased`` always (``forget`` must strip
    the kept deliveries of an erased card, whether or not anyone listens now)."""
    chosen = WebhookEndpoint.objects.filter(enabled=True).values_list("events", flat=True)
    return {"card.erased", *(event_type for events in chosen for event_type in events)}


@outbox.consumer("webhooks", types=envelopes.TYPES, wants=subscribed)
def fan_out(events: list[Event]) -> None:
    """One batch of events (crm.outbox.dispatch, inside its transaction): their deliveries. Idempotent."""
    erased = [event.customer_id for event in events if event.type == "card.erased" and event.customer_id]
    if erased:
        forget(erased)
    endpoints = list(WebhookEndpoint.objects.filter(enabled=True))
    if not endpoints:
        return
    targets = {
        event.pk: [ep for ep in endpoints if ep.wants(event.type, event.payload.get("fields"), event.created_at)]
        for event in events
    }
    wanted = [event for event in events if targets[event.pk]]
    if not wanted:
        return
    bodies = envelopes.bodies(wanted)
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            event_id=event.pk,
            customer_id=event.customer_id,
            type=event.type,
            body=bodies[event.pk],
            next_attempt_at=now,
            created_at=now,
        )
        for event in wanted
        for endpoint in targets[event.pk]
    ]
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000, ignore_conflicts=True)
    transaction.on_commit(kick)


def forget(customer_ids: list[int]) -> int:
    """Strip the kept deliveries of these erased cards to their numbers (api.envelopes.erased_body)."""
    kept = WebhookDelivery.objects.filter(customer_id__in=customer_ids).exclude(type="card.erased")
    changed = []
    for row in kept.only("id", "body").iterator(chunk_size=1000):
        row.body = envelopes.erased_body(row.body)
        changed.append(row)
    WebhookDelivery.objects.bulk_update(changed, ["body"], batch_size=500)
    return len(changed)


# --- Kicking the sender --------------------------------------------------------------------------------

_sending = threading.Lock()


def kick() -> None:
    """Send what is due now: on Celery with a broker, inline with JOBS_RUN_INLINE (tests), otherwise in a
    thread of this process (one at a time; the periodic sweep catches anything it misses)."""
    if settings.CELERY_BROKER_URL:
        from .tasks import send_webhooks

        send_webhooks.delay()
    elif getattr(settings, "JOBS_RUN_INLINE", False):
        delivery.send_due()
    else:
        threading.Thread(target=_send_in_thread, name="webhooks", daemon=True).start()


def _send_in_thread() -> None:
    if not _sending.acquire(blocking=False):
        return
    try:
        delivery.send_due()
    except Exception:
        logger.exception("webhooks could not be sent")
    finally:
        _sending.release()
        connections.close_all()
