"""Webhooks reach a real receiver: signed so it can verify them, retried after errors and timeouts,
in order per card, and an endpoint that keeps failing is disabled and the Admins are told."""

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api import delivery
from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from crm import inbox, outbox
from crm.models import AuditEntry
from customers import gate
from customers.gate import FORM
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def deliver():
    outbox.dispatch()
    return delivery.send_due()


def move_clock_past_retries():
    WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_changed_card_reaches_the_receiver_signed_with_its_old_and_new_values(receiver, subscribe, staff_user):
    _endpoint, secret = subscribe(receiver)
    card = CustomerFactory(name="张伟", city="上海", phone="13812345678")
    gate.update_card(card, {"city": "北京"}, by=staff_user, source=FORM)

    sent = deliver()

    assert (sent.attempted, sent.delivered) == (1, 1)
    [got] = receiver.received
    envelope = Webhook(secret).verify(got.body, got.headers)  # as the receiver verifies it
    assert envelope["id"] == got.headers["webhook-id"] == f"evt_{WebhookDelivery.objects.get().event_id}"
    assert (envelope["type"], envelope["version"], envelope["actor"]) == ("card.updated", 1, {"username": "staff_li"})
    assert envelope["data"]["changes"] == {"city": {"old": "上海", "new": "北京"}}
    assert envelope["data"]["card"]["number"] == card.customer_no
    assert envelope["data"]["card"]["city"] == "北京" and envelope["data"]["card"]["phone"] == "13812345678"
    assert got.path == "/hooks/crm" and got.headers["content-type"] == "application/json"
    stored = WebhookDelivery.objects.get()
    assert (stored.status, stored.attempts, stored.last_status_code) == ("delivered", 1, 200)
    assert stored.delivered_at is not None and stored.claimed_until is None
    assert WebhookAttempt.objects.get().status_code == 200


def test_the_signature_verifies_with_plain_hmac_and_fails_for_a_changed_body(receiver, subscribe, staff_user):
    _endpoint, secret = subscribe(receiver)
    gate.update_card(CustomerFactory(city="上海"), {"city": "杭州"}, by=staff_user, source=FORM)
    deliver()
    [got] = receiver.received

    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.".encode() + got.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert got.headers["webhook-signature"] == expected
    assert len(key) >= 24
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(got.body.replace("杭州".encode(), "广州".encode()), got.headers)


def test_a_500_is_tried_again_later_with_the_same_bytes_until_it_is_accepted(receiver, subscribe, staff_user):
    subscribe(receiver)
    receiver.answers = [500, 503]
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)

    first = deliver()
    stored = WebhookDelivery.objects.get()
    assert (first.delivered, first.failed) == (0, 1)
    assert (stored.status, stored.attempts, stored.last_status_code) == ("pending", 1, 500)
    assert stored.last_error == "HTTP 500"
    wait = stored.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=33)  # 30 s ± 10 %
    assert delivery.send_due().attempted == 0  # not due yet

    move_clock_past_retries()
    delivery.send_due()
    stored.refresh_from_db()
    assert (stored.attempts, stored.last_status_code) == (2, 503)
    assert timedelta(seconds=100) < stored.next_attempt_at - timezone.now() <= timedelta(seconds=133)  # 2 min

    move_clock_past_retries()
    delivery.send_due()
    stored.refresh_from_db()
    assert (stored.status, stored.attempts) == ("delivered", 3)
    assert list(stored.tries.order_by("id").values_list("status_code", flat=True)) == [500, 503, 200]
    assert len({r.body for r in receiver.received}) == 1 and len(set(receiver.ids())) == 1


def test_a_receiver_that_does_not_answer_in_time_is_tried_again(receiver, subscribe, staff_user, settings):
    settings.WEBHOOK_TIMEOUT = 0.2
    subscribe(receiver)
    receiver.delay = 0.5
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)

    deliver()
    stored = WebhookDelivery.objects.get()
    assert (stored.status, stored.attempts, stored.last_status_code) == ("pending", 1, None)
    assert stored.shown_error == "No answer within 0.2 s"
    with translation.override("zh-hans"):  # each reader sees it in their language, not the sender's
        assert stored.shown_error == "0.2 秒内无应答"

    receiver.delay = 0
    move_clock_past_retries()
    delivery.send_due()
    stored.refresh_from_db()
    assert (stored.status, stored.attempts, stored.last_status_code) == ("delivered", 2, 200)


def test_the_retry_schedule_grows_and_is_capped_at_a_day():
    waits = [delivery.backoff(n).total_seconds() for n in range(1, 10)]
    for wait, base in zip(waits, [30, 120, 600, 3600, 21600, 86400, 86400, 86400, 86400], strict=True):
        assert base * 0.9 <= wait <= base * 1.1


def test_a_delivery_that_never_succeeds_fails_after_the_last_attempt(receiver, subscribe, staff_user, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_DISABLE_AFTER = 100
    subscribe(receiver)
    receiver.status = 500
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    deliver()
    move_clock_past_retries()
    delivery.send_due()
    stored = WebhookDelivery.objects.get()
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("failed", 2, None)


def test_an_endpoint_that_keeps_failing_is_disabled_and_the_admins_are_told(
    receiver, subscribe, staff_user, admin_user, settings
):
    settings.WEBHOOK_DISABLE_AFTER = 3
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 0
    endpoint, _secret = subscribe(receiver)
    receiver.status = 500
    for city in ("北京", "广州", "深圳"):
        gate.update_card(CustomerFactory(city="上海"), {"city": city}, by=staff_user, source=FORM)

    sent = deliver()

    endpoint.refresh_from_db()
    assert sent.disabled == [endpoint.pk]
    assert (endpoint.enabled, endpoint.disabled_reason, endpoint.consecutive_failures) == (False, "failures", 3)
    entry = AuditEntry.objects.get(action="webhook.disable")
    assert entry.object_id == str(endpoint.pk) and entry.data["last_error"] == "HTTP 500"
    assert inbox.counts(admin_user)["api.webhooks_disabled"] == 1
    assert "api.webhooks_disabled" not in inbox.counts(staff_user)
    move_clock_past_retries()
    assert delivery.send_due().attempted == 0  # nothing goes to a disabled endpoint
    assert WebhookDelivery.objects.filter(status="pending").count() == 3  # ... but nothing is lost


def test_a_short_outage_does_not_disable_an_endpoint(receiver, subscribe, staff_user, settings):
    settings.WEBHOOK_DISABLE_AFTER = 3  # three failures in a row, but all within the last 24 hours
    endpoint, _secret = subscribe(receiver)
    receiver.answers = [500, 500, 500]
    for city in ("北京", "广州", "深圳"):
        gate.update_card(CustomerFactory(city="上海"), {"city": city}, by=staff_user, source=FORM)
    deliver()
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 3
    move_clock_past_retries()
    delivery.send_due()
    endpoint.refresh_from_db()
    assert endpoint.enabled and (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)


def test_enabling_a_disabled_endpoint_sends_what_waited(receiver, subscribe, staff_user, admin_user):
    from api import webhooks

    endpoint, _secret = subscribe(receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason="failures")
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    outbox.dispatch()
    assert not WebhookDelivery.objects.exists()  # a disabled endpoint is not sent new events
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=True, enabled_at=timezone.now())
    gate.update_card(CustomerFactory(city="上海"), {"city": "广州"}, by=staff_user, source=FORM)
    outbox.dispatch()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason="failures")
    assert delivery.send_due().attempted == 0

    webhooks.update_endpoint(
        endpoint, name="Finance", url=receiver.url, events=endpoint.events, fields=[], enabled=True, by=admin_user
    )
    assert delivery.send_due().delivered == 1
    assert [e["data"]["changes"]["city"]["new"] for e in receiver.envelopes] == ["广州"]


def test_a_cards_events_arrive_in_order_even_when_one_must_be_retried(receiver, subscribe, staff_user):
    subscribe(receiver)
    card, other = CustomerFactory(city="上海"), CustomerFactory(city="上海")
    for city in ("北京", "广州", "深圳"):
        gate.update_card(card, {"city": city}, by=staff_user, source=FORM)
    gate.update_card(other, {"city": "成都"}, by=staff_user, source=FORM)
    failed = []

    def fail_beijing_once(body):
        if "北京".encode() in body and not failed:
            failed.append(body)
            return 500
        return None

    receiver.decide = fail_beijing_once

    def cities(number):
        envelopes = [e["data"] for e in receiver.envelopes if e["data"]["card"]["number"] == number]
        return [data["changes"]["city"]["new"] for data in envelopes]

    deliver()
    assert cities(card.customer_no) == ["北京"]  # its later events wait behind the one that failed
    assert cities(other.customer_no) == ["成都"]  # another card does not wait

    move_clock_past_retries()
    delivery.send_due()
    assert cities(card.customer_no) == ["北京", "北京", "广州", "深圳"]
    assert not WebhookDelivery.objects.filter(status="pending").exists()


def test_one_change_goes_to_every_endpoint_subscribed(receiver, subscribe, staff_user):
    subscribe(receiver, name="Finance")
    subscribe(receiver, name="Shop")
    subscribe(receiver, events=["card.closed"], name="Marketing")
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    sent = deliver()
    assert sent.delivered == 2
    assert len(receiver.received) == 2 and receiver.received[0].body == receiver.received[1].body


def test_the_next_event_of_a_card_goes_in_the_same_run_once_its_retried_one_is_through(receiver, subscribe, staff_user):
    subscribe(receiver)
    card = CustomerFactory(city="上海")
    for city in ("北京", "广州"):
        gate.update_card(card, {"city": city}, by=staff_user, source=FORM)
    receiver.answers = [500]
    deliver()
    first = WebhookDelivery.objects.order_by("id").first()
    # The retried one is due after the one behind it (which has waited since it was made): a sender
    # that resumed its scan after the retried one would pass the other by; it starts over instead.
    WebhookDelivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))

    assert delivery.send_due().delivered == 2
    assert [e["data"]["changes"]["city"]["new"] for e in receiver.envelopes] == ["北京", "北京", "广州"]
