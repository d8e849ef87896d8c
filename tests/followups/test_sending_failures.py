"""When the mail server is down: follow-ups are tried again with growing waits, counted, and end as
failed with the error shown; nothing is lost and nothing is sent twice, also when the sender dies
halfway through a batch."""

from datetime import timedelta

import pytest
from django.utils import timezone

from followups import sending
from followups.models import Followup, Kind
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def notice(card):
    return Followup.objects.get(customer=card, kind=Kind.NOTICE)


def make_due(followup):
    Followup.objects.filter(pk=followup.pk).update(due_at=timezone.now() - timedelta(seconds=1))


def test_smtp_down_retries_with_backoff_then_fails_with_the_error(smtp_server, close_card, settings):
    settings.FOLLOWUP_MAX_ATTEMPTS = 3
    card = CustomerFactory(email="a@example.cn")
    close_card(card)
    smtp_server.stop()

    waits = []
    for attempt in (1, 2):
        before = timezone.now()
        tally = sending.send_due()
        row = notice(card)
        assert (tally.retrying, row.attempts, row.state) == (1, attempt, Followup.State.PENDING)
        assert "refused" in row.last_error.lower() or "connect" in row.last_error.lower()
        waits.append(round((row.due_at - before).total_seconds() / 60))
        assert sending.send_due().total == 0  # not due again before its wait is over
        make_due(row)
    assert waits == [1, 5]

    tally = sending.send_due()
    row = notice(card)
    assert (tally.failed, row.attempts, row.state) == (1, 3, Followup.State.FAILED)
    assert row.last_error and row.sent_at is None

    smtp_server.start()
    assert sending.send_due().total == 0  # a failed one is not sent by itself later
    assert smtp_server.messages == []


def test_after_the_server_comes_back_each_message_arrives_once(smtp_server, close_card):
    cards = [CustomerFactory(email=f"c{i}@example.cn") for i in range(3)]
    for card in cards:
        close_card(card)
    smtp_server.stop()
    assert sending.send_due().retrying == 3
    smtp_server.start()
    Followup.objects.filter(kind=Kind.NOTICE).update(due_at=timezone.now())

    assert sending.send_due().sent == 3
    Followup.objects.filter(kind=Kind.NOTICE).update(due_at=timezone.now())  # even if asked again
    assert sending.send_due().total == 0
    assert sorted(m["To"] for m in smtp_server.messages) == [c.email for c in cards]
    assert {notice(c).attempts for c in cards} == {1}


def test_a_refused_recipient_fails_alone_and_the_others_are_sent(smtp_server, close_card):
    good, bad = CustomerFactory(email="good@example.cn"), CustomerFactory(email="bad@@example.cn")
    close_card(bad)
    close_card(good)
    tally = sending.send_due()
    assert (tally.sent, tally.retrying) == (1, 1)
    assert [m["To"] for m in smtp_server.messages] == ["good@example.cn"]
    assert notice(bad).attempts == 1 and notice(bad).last_error


def test_a_row_being_sent_is_not_taken_by_a_second_sweep(smtp_server, close_card):
    close_card(CustomerFactory(email="a@example.cn"))
    rows, in_doubt = sending.claim(10)
    assert len(rows) == 1 and in_doubt == 0
    assert sending.claim(10) == ([], 0)  # leased: the other sweep finds nothing due


def test_a_message_left_in_doubt_by_a_crash_is_not_sent_again(smtp_server, close_card):
    card = CustomerFactory(email="a@example.cn")
    close_card(card)
    rows, _ = sending.claim(10)  # ...and the process dies before it records the outcome
    later = timezone.now() + sending.LEASE + timedelta(seconds=1)

    tally = sending.send_due(now=later)

    row = notice(card)
    assert tally.failed == 1 and row.state == Followup.State.FAILED
    assert "may have been delivered" in row.last_error
    assert smtp_server.messages == []


def test_send_followup_task_sends_one_and_only_once(smtp_server, close_card):
    from followups import tasks

    card = CustomerFactory(email="a@example.cn")
    close_card(card)
    row = notice(card)
    assert tasks.send_followup(row.pk)["sent"] == 1
    assert tasks.send_followup(row.pk)["sent"] == 0
    assert len(smtp_server.messages) == 1


def test_a_row_that_cannot_be_prepared_fails_alone_and_is_not_left_in_doubt(smtp_server, close_card, monkeypatch):
    broken, fine = CustomerFactory(email="broken@example.cn"), CustomerFactory(email="fine@example.cn")
    close_card(broken)
    close_card(fine)
    real = sending.values_for

    def values_for(row, language):
        if row.customer_id == broken.pk:
            raise ValueError("bad data on the card")
        return real(row, language)

    monkeypatch.setattr(sending, "values_for", values_for)
    tally = sending.send_due()
    assert (tally.sent, tally.retrying) == (1, 1)
    row = notice(broken)
    assert (row.last_error, row.sent_at, row.attempts) == ("bad data on the card", None, 1)


def test_over_two_connections_every_message_arrives_once(smtp_server, close_card, settings):
    settings.FOLLOWUP_SMTP_CONNECTIONS = 2
    cards = [CustomerFactory(email=f"c{i}@example.cn") for i in range(5)]
    for card in cards:
        close_card(card)
    assert sending.send_due().sent == 5
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(c.email for c in cards)
    assert {notice(c).state for c in cards} == {Followup.State.SENT}
