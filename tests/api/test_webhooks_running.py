"""What runs the sender: a change is sent as soon as it commits (no sweep needed), the periodic Celery
task and the management command send what is due, and on PostgreSQL two senders at the same moment
share the work without sending anything twice."""

import io

import pytest
from django.core.management import call_command

from api import delivery, tasks, webhooks
from api.models import WebhookDelivery
from crm import outbox
from customers import gate
from customers.gate import FORM
from tests.concurrency import run_together
from tests.factories import CustomerFactory


@pytest.mark.django_db
def test_a_change_is_sent_once_it_commits_without_waiting_for_a_sweep(
    receiver, subscribe, staff_user, django_capture_on_commit_callbacks
):
    subscribe(receiver)
    card = CustomerFactory(city="上海")
    with django_capture_on_commit_callbacks(execute=True):
        gate.update_card(card, {"city": "北京"}, by=staff_user, source=FORM)
    assert [e["data"]["changes"]["city"]["new"] for e in receiver.envelopes] == ["北京"]
    assert WebhookDelivery.objects.get().status == "delivered"


@pytest.mark.django_db
def test_the_periodic_task_fans_out_lost_events_and_sends_them(receiver, subscribe, staff_user):
    subscribe(receiver)
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)  # its kick lost
    assert tasks.send_webhooks() == {"attempted": 1, "delivered": 1, "failed": 0}
    assert len(receiver.received) == 1


@pytest.mark.django_db
def test_the_command_sends_what_is_due(receiver, subscribe, staff_user):
    subscribe(receiver)
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    out = io.StringIO()
    call_command("send_webhooks", stdout=out)
    assert "1 tried, 1 delivered, 0 failed" in out.getvalue()
    assert len(receiver.received) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_the_same_moment_never_take_the_same_delivery(receiver, subscribe, staff_user, monkeypatch):
    monkeypatch.setattr(webhooks, "kick", lambda: None)  # committed for real here: no sending on commit
    subscribe(receiver)
    for number in range(40):
        gate.update_card(CustomerFactory(city="上海"), {"city": f"城市{number}"}, by=staff_user, source=FORM)
    outbox.dispatch()

    first, second = run_together(lambda: delivery.claim(size=25)[0], lambda: delivery.claim(size=25)[0])

    mine, theirs = {d.pk for d in first}, {d.pk for d in second}
    assert not mine & theirs
    assert len(mine | theirs) == 40  # together they took every delivery
    run_together(lambda: delivery.record(first, first[0].claimed_until, delivery.send_batch(first)))
    run_together(lambda: delivery.record(second, second[0].claimed_until, delivery.send_batch(second)))
    assert len(receiver.received) == 40 == len(set(receiver.ids()))
    assert WebhookDelivery.objects.filter(status="delivered").count() == 40
