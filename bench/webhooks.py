"""The webhooks figure of ``manage.py bench`` (issue 22): 10,000 card events to 3 endpoints on a local
receiver, fanned out and delivered, in under 60 s on 2 cores.

1. three endpoints are registered, for a receiver this process starts (the one the tests use,
   tests/api/receiver.py: HTTP/1.1, keep-alive, answering 200), allowed by WEBHOOK_ALLOWED_HOSTS;
2. 10,000 ``card.updated`` events are written for active cards of the data set (one statement, as an
   import writes its events);
3. timed: the outbox dispatch (the "webhooks" consumer builds 30,000 signed-to-be deliveries), then
   ``api.delivery.send_due`` until every delivery was answered; the sender kicked after the fan-out's
   commit is held back, so the timing is of one sender;
4. the benchmark's endpoints (with their deliveries and attempts), events and receipts are deleted
   again, whatever happened.

The receiver runs in this process, so the figure includes its work (as bench/sending.py's SMTP server).
"""

from __future__ import annotations

import time
from unittest import mock

from django.db import connection
from django.test.utils import override_settings

from .lib import Unavailable

EVENTS = 10_000
ENDPOINTS = 3
TARGET_S = 60
NAME = "bench: webhooks"


def measure_webhooks() -> dict:
    from api import delivery, webhooks
    from api.envelopes import TYPES
    from api.models import WebhookDelivery, WebhookEndpoint
    from crm import outbox
    from crm.models import Event
    from tests.api import receiver as local

    from .lib import admin_user

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customers_customer WHERE status = 'active' ORDER BY id DESC LIMIT %s", [EVENTS])
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) < EVENTS:
        raise Unavailable(f"only {len(ids)} active cards: load the data set with seed_scale")
    server = local.start()
    first_event = (Event.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    try:
        with override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"]), mock.patch.object(webhooks, "kick"):
            outbox.dispatch(["webhooks"])  # anything waiting before the run is not timed
            by = admin_user()
            for n in range(ENDPOINTS):
                webhooks.create_endpoint(name=f"{NAME} {n}", url=server.url, events=list(TYPES), fields=[], by=by)
            rows = [{"object_type": "customer", "object_id": pk, "customer_id": pk, "payload": {"fields": ["city"]}}
                    for pk in ids]  # fmt: skip
            outbox.emit_many("card.updated", rows)
            began, cpu = time.perf_counter(), time.process_time()
            outbox.dispatch(["webhooks"])
            fanned = time.perf_counter()
            sent = delivery.send_due()
            done = time.perf_counter()
            cpu = time.process_time() - cpu
        ours = WebhookDelivery.objects.filter(endpoint__name__startswith=NAME)
        return {
            "seconds": round(done - began, 1),
            "fan_out_s": round(fanned - began, 1),
            "sending_s": round(done - fanned, 1),
            "deliveries": ours.count(),
            "delivered": ours.filter(status=WebhookDelivery.Status.DELIVERED).count(),
            "received": len(server.received),
            "per_s": round(sent.delivered / max(done - fanned, 1e-9)),
            "cpu_seconds": round(cpu, 1),
        }
    finally:
        server.server.shutdown()
        server.server.server_close()
        WebhookEndpoint.objects.filter(name__startswith=NAME).delete()
        Event.objects.filter(id__gte=first_event, type="card.updated").delete()
