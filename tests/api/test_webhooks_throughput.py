"""Fan-out and sending throughput against a real local receiver (issue 22: 10,000 events to 3 endpoints
in under 60 s on 2 cores). By default a small run that proves the batching end to end; the full figure:

    WEBHOOK_BENCH_EVENTS=10000 DATABASE_URL=postgres://... pytest -s tests/api/test_webhooks_throughput.py

It prints the fan-out (outbox -> deliveries) and sending (claim, POST, record) times separately.
The receiver runs in the test's process, so the figure includes its work too (as bench/sending.py's
SMTP server). Measured on PostgreSQL on the 2-core development machine while another benchmark ran
(load 3-4): fan-out 9.0 s, sending 28.8 s, total 37.9 s.
"""

import os
import time

import pytest

from api import delivery
from api.models import WebhookDelivery
from crm import outbox
from customers.models import Customer

pytestmark = pytest.mark.django_db

EVENTS = int(os.environ.get("WEBHOOK_BENCH_EVENTS", "150"))
ENDPOINTS = 3


def test_events_fan_out_to_three_endpoints_and_are_all_delivered(receiver, subscribe, settings):
    settings.WEBHOOK_THREADS = 4
    for name in ("Finance", "Shop", "Marketing"):
        subscribe(receiver, name=name)
    cards = Customer.objects.bulk_create(
        [Customer(customer_no=f"W{i:07d}", name=f"客户{i}", city="上海") for i in range(EVENTS)], batch_size=2000
    )
    payload = {"fields": ["city"]}
    rows = [{"object_type": "customer", "object_id": c.pk, "customer_id": c.pk, "payload": payload} for c in cards]
    outbox.emit_many("card.updated", rows)

    started = time.perf_counter()
    outbox.dispatch(["webhooks"])
    fanned = time.perf_counter()
    sent = delivery.send_due()
    done = time.perf_counter()

    total = EVENTS * ENDPOINTS
    print(  # noqa: T201 (the figure this test exists to show, with -s)
        f"\n{EVENTS} events x {ENDPOINTS} endpoints: fan-out {fanned - started:.1f} s, "
        f"sending {done - fanned:.1f} s ({total / max(done - fanned, 1e-9):.0f} deliveries/s), "
        f"total {done - started:.1f} s"
    )
    assert sent.delivered == total and len(receiver.received) == total
    assert not WebhookDelivery.objects.exclude(status="delivered").exists()
