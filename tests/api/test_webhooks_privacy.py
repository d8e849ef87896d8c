"""An erased card leaves in a webhook as its number and the fact of erasure: no personal data, neither
in the card.erased event nor in what was still waiting or kept in the log for that card."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api import delivery, webhooks
from api.models import WebhookDelivery
from closures import erasure
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm import outbox
from crm.models import Event
from customers import gate
from customers.gate import FORM
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PERSONAL = ("王小明", "13912345678", "xiaoming@example.com", "南京西路 100 号", "wxm_wechat")


@pytest.fixture
def person(db):
    return CustomerFactory(
        customer_no="E000001",
        name=PERSONAL[0],
        phone=PERSONAL[1],
        email=PERSONAL[2],
        address=PERSONAL[3],
        wechat=PERSONAL[4],
        city="上海",
    )


def erase(card, by):
    choice = ClosureChoice("erase", ClosureReason.objects.get(code="erasure-request"))
    erasure.erase_customer(card, choice, by=by, confirmation=card.customer_no)


def test_the_erasure_event_carries_the_number_and_the_fact_only(receiver, subscribe, person, admin_user):
    subscribe(receiver)
    erase(person, admin_user)
    outbox.dispatch()
    delivery.send_due()

    [got] = [r for r in receiver.received if r.json["type"] == "card.erased"]
    assert got.json["data"] == {"card": {"number": "E000001", "erased": True}}
    for value in PERSONAL:
        assert value not in got.body.decode()
    assert person.name not in str(Event.objects.get(type="card.erased").payload)


def test_what_waited_for_an_erased_card_is_stripped_of_its_personal_data(
    receiver, subscribe, person, staff_user, admin_user
):
    subscribe(receiver)
    receiver.status = 500  # the receiver is down while the card changes and is erased
    gate.update_card(person, {"phone": "13800000000", "city": "北京"}, by=staff_user, source=FORM)
    outbox.dispatch()
    delivery.send_due()
    assert PERSONAL[0] in WebhookDelivery.objects.get().body

    erase(person, admin_user)
    outbox.dispatch()

    for body in WebhookDelivery.objects.values_list("body", flat=True):
        for value in (*PERSONAL, "13800000000"):
            assert value not in body
    receiver.status = 200
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    delivery.send_due()
    assert [e["data"] for e in receiver.envelopes[-2:]] == [{"card": {"number": "E000001", "erased": True}}] * 2


def test_the_log_of_an_endpoint_disabled_since_is_stripped_too(receiver, subscribe, person, staff_user, admin_user):
    endpoint, _secret = subscribe(receiver, events=["card.updated"])
    gate.update_card(person, {"city": "北京"}, by=staff_user, source=FORM)
    outbox.dispatch()
    delivery.send_due()
    endpoint.refresh_from_db()
    webhooks.update_endpoint(
        endpoint, name=endpoint.name, url=endpoint.url, events=endpoint.events, fields=[], enabled=False, by=admin_user
    )
    erase(person, admin_user)  # nobody listens to card.erased now, and the log must still forget the card
    outbox.dispatch()
    [body] = WebhookDelivery.objects.values_list("body", flat=True)
    assert not any(value in body for value in PERSONAL)
