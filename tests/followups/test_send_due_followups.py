"""``manage.py send_due_followups`` end to end: a card closed through the closure operation, the
outbox's event planned, the command run as cron would, the notice in the customer's mailbox."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm.models import Event
from followups.models import Followup, Kind
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("send_due_followups", *args, stdout=out)
    return out.getvalue()


def test_a_closed_card_gets_its_notice_from_the_command(smtp_server, staff_user):
    card = CustomerFactory(email="zhang@example.cn", language="zh-hans", balance=Decimal("88.50"))
    reason = ClosureReason.objects.get(code="service")
    operations.close_customer(
        card, ClosureChoice("close", reason, settlement="refund", settlement_method="cash"), by=staff_user
    )
    assert Event.objects.filter(type="card.closed").exists() and not Followup.objects.exists()

    output = run()  # hands the event to the planner, then sends what is due

    assert "Events handed to the planner: 1." in output
    assert "Sent: 1, skipped: 0, cancelled: 0, to retry: 0, failed: 0." in output
    [message] = smtp_server.to("zhang@example.cn")
    assert card.customer_no in message["Subject"] and "¥88.50" in smtp_server.text(message)
    assert Followup.objects.get(customer=card, kind=Kind.NOTICE).state == Followup.State.SENT
    assert Followup.objects.get(customer=card, kind=Kind.SURVEY).state == Followup.State.PENDING  # tomorrow

    assert "Sent: 0," in run()  # run again: nothing twice
    assert len(smtp_server.messages) == 1


def test_the_limit_is_respected(smtp_server, close_card):
    for _ in range(3):
        close_card(CustomerFactory())
    assert "Sent: 2," in run("--limit", "2")
    assert len(smtp_server.messages) == 2


def test_the_celery_task_dispatches_the_outbox_first(smtp_server, staff_user):
    from followups import tasks

    card = CustomerFactory(email="li@example.cn")
    operations.close_customer(card, ClosureChoice("close", ClosureReason.objects.get(code="price")), by=staff_user)
    assert tasks.send_due()["sent"] == 1
    assert smtp_server.to("li@example.cn")


def test_beat_runs_the_registered_sweep_every_minute(settings):
    from crm.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["send-due-followups"]
    assert entry["schedule"] == 60.0
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
