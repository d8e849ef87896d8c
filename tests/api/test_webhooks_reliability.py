"""Nothing is lost and nothing is invented: no webhook for a change that rolled back, one delivery per
event however often it is handed over, a delivery abandoned by a killed sender goes out once its lease
runs out (at most once more), redelivery sends the same bytes, and the log forgets old deliveries."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from api import delivery, webhooks
from api.models import WebhookAttempt, WebhookDelivery
from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm import outbox
from crm.models import Event
from customers import gate
from customers.gate import FORM
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def reason(code):
    return ClosureReason.objects.get(code=code)


def test_a_closure_that_rolls_back_sends_nothing(receiver, subscribe, staff_user):
    subscribe(receiver)
    card = CustomerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        operations.close_customer(card, ClosureChoice("close", reason("price")), by=staff_user)
        raise RuntimeError("the request failed after the closure was written")

    outbox.dispatch()
    delivery.send_due()
    assert not Event.objects.exists() and not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_a_closure_that_commits_is_sent_with_its_reason_code(receiver, subscribe, staff_user):
    _endpoint, _secret = subscribe(receiver)
    card = CustomerFactory(name="王芳")
    operations.close_customer(card, ClosureChoice("close", reason("price")), by=staff_user)
    outbox.dispatch()
    delivery.send_due()
    [envelope] = receiver.envelopes
    assert envelope["type"] == "card.closed"
    assert envelope["data"]["card"]["status"] == "closed" and envelope["data"]["card"]["name"] == "王芳"
    assert envelope["data"]["closure"]["reason"] == "price" and envelope["data"]["closure"]["action"] == "close"


def test_an_event_handed_over_twice_makes_one_delivery(receiver, subscribe, staff_user):
    subscribe(receiver)
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    events = list(Event.objects.select_related("actor"))
    webhooks.fan_out(events)
    webhooks.fan_out(events)  # a dispatcher crashed before its receipt committed
    outbox.dispatch()
    assert WebhookDelivery.objects.count() == 1
    delivery.send_due()
    assert len(receiver.received) == 1


def test_a_sender_killed_mid_delivery_leaves_it_to_be_sent_after_its_lease_at_most_once_more(
    receiver, subscribe, staff_user
):
    subscribe(receiver)
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    outbox.dispatch()
    claimed, lease = delivery.claim()
    delivery.attempt(claimed[0])  # the request went out ... and the sender died before recording it
    assert len(receiver.received) == 1

    assert delivery.send_due().attempted == 0  # held by the dead sender's lease
    WebhookDelivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))  # the lease runs out
    assert delivery.send_due().delivered == 1
    assert delivery.send_due().attempted == 0
    assert len(receiver.received) == 2  # once more, no more
    assert receiver.received[0].body == receiver.received[1].body and len(set(receiver.ids())) == 1

    late = delivery.record(claimed, lease, [delivery.Outcome(claimed[0].pk, claimed[0].endpoint_id, timezone.now())])
    stored = WebhookDelivery.objects.get()
    assert late.attempted == 0  # the dead sender's result, arriving late, changes nothing
    assert (stored.status, stored.attempts) == ("delivered", 1)


def test_a_sender_killed_before_sending_leaves_it_to_be_sent_once(receiver, subscribe, staff_user):
    subscribe(receiver)
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    outbox.dispatch()
    delivery.claim()  # claimed, then the worker was killed
    WebhookDelivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    delivery.send_due()
    assert len(receiver.received) == 1 and WebhookDelivery.objects.get().status == "delivered"


def test_the_lease_covers_every_request_of_the_batch_timing_out(settings):
    settings.WEBHOOK_THREADS, settings.WEBHOOK_TIMEOUT = 4, 10
    assert delivery.lease_seconds(100) == 25 * 10 + delivery.LEASE_MARGIN


def test_two_senders_never_claim_the_same_delivery(receiver, subscribe, staff_user):
    subscribe(receiver)
    for city in ("北京", "广州"):
        gate.update_card(CustomerFactory(city="上海"), {"city": city}, by=staff_user, source=FORM)
    outbox.dispatch()
    first, _lease = delivery.claim(size=1)
    second, _lease = delivery.claim(size=5)
    third, _lease = delivery.claim(size=5)
    assert len(first) == len(second) == 1 and first[0].pk != second[0].pk and third == []


def test_redelivery_sends_the_same_bytes_again(receiver, subscribe, staff_user, admin_user):
    subscribe(receiver)
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    outbox.dispatch()
    delivery.send_due()
    sent = WebhookDelivery.objects.get()

    webhooks.redeliver(sent, by=admin_user)
    delivery.send_due()

    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == ("delivered", 1)
    assert WebhookAttempt.objects.filter(delivery=sent).count() == 2
    assert len(receiver.received) == 2 and receiver.received[0].body == receiver.received[1].body
    assert receiver.ids() == [sent.message_id, sent.message_id]


def test_the_test_event_goes_to_that_endpoint_only(receiver, subscribe, admin_user):
    endpoint, secret = subscribe(receiver, name="Finance")
    subscribe(receiver, name="Shop")
    webhooks.send_test(endpoint, by=admin_user)
    delivery.send_due()
    [envelope] = receiver.envelopes
    assert envelope["type"] == "webhook.test" and envelope["data"] == {"test": True, "endpoint": "Finance"}
    assert envelope["actor"] == {"username": admin_user.username}


def test_old_delivered_deliveries_leave_the_log_and_waiting_ones_stay(receiver, subscribe, staff_user, settings):
    settings.WEBHOOK_LOG_DAYS = 30
    subscribe(receiver)
    for city in ("北京", "广州", "深圳"):
        gate.update_card(CustomerFactory(city="上海"), {"city": city}, by=staff_user, source=FORM)
    outbox.dispatch()
    delivery.send_due()
    old, recent, waiting = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - timedelta(days=31))
    WebhookDelivery.objects.filter(pk=waiting.pk).update(
        status="pending", delivered_at=None, created_at=timezone.now() - timedelta(days=90)
    )

    assert delivery.prune() == 1

    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not WebhookAttempt.objects.filter(delivery_id=old.pk).exists()


def test_a_test_event_reaches_a_disabled_endpoint_and_nothing_else_does(receiver, subscribe, staff_user, admin_user):
    endpoint, _secret = subscribe(receiver)
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    outbox.dispatch()
    endpoint.enabled = False
    endpoint.save(update_fields=["enabled"])
    webhooks.send_test(endpoint, by=admin_user)
    delivery.send_due()
    assert [e["type"] for e in receiver.envelopes] == ["webhook.test"]
