"""The dashboard's per-closure follow-up summary (followups/summary.py) and the activity tally summed
from it, kept up by every write path, equal both recomputed from scratch (``rebuild``) after each
step of a closure's story:
closed and planned, survey sent and answered, callbacks reached, not reached, wanting to come back
(reinstated at once, confirmed by a Manager, or declined), do not contact, a failed message
retried, a card reinstated through its page, a card erased, a category merge."""

import io
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone

from closures import erasure, operations, writes
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm import outbox
from customers import consent
from customers.gate import Source
from followups import callbacks, sending, summary
from followups.answers import record_answer
from followups.models import ActivityTally, ClosureSummary, Followup, Kind, Rule
from tests.factories import ClosureFactory, CustomerFactory

pytestmark = pytest.mark.django_db(transaction=False)
Outcome = Followup.Outcome


def reason(code):
    return ClosureReason.objects.get(code=code)


@pytest.fixture
def policy(db):
    Rule.objects.all().delete()
    for kind, channel, delay in (
        (Kind.NOTICE, "email", 0),
        (Kind.SURVEY, "email", 1),
        (Kind.CALLBACK, "phone", 2),
        (Kind.WINBACK, "email", 30),
    ):
        Rule.objects.create(action="close", kind=kind, channel=channel, delay_days=delay)


def rows() -> list[dict]:
    return list(ClosureSummary.objects.order_by("closure_id").values())


def tally() -> list[dict]:
    """The activity tally's rows but those whose closures have all left (all zero: no group)."""
    columns = (*summary.TALLY_KEY, *summary.TALLY_SUMS)
    found = ActivityTally.objects.order_by(*summary.TALLY_KEY).values(*columns)
    return [row for row in found if any(row[name] for name in summary.TALLY_SUMS)]


def assert_kept_up(step: str) -> None:
    kept, kept_tally = rows(), tally()
    summary.rebuild()
    assert kept == rows(), f"after {step}: the summary kept up differs from the recount"
    assert kept_tally == tally(), f"after {step}: the activity tally kept up differs from the recount"


def closed(owner, by, code="price"):
    card = CustomerFactory(owner=owner)
    closure = operations.close_customer(card, ClosureChoice("close", reason(code)), by=by)
    outbox.dispatch()
    return closure, {f.kind: f for f in Followup.objects.filter(closure=closure)}


def sent(followup) -> None:
    """The sender delivers the message (the customer agreed to surveys); it refreshes the summary itself."""
    consent.change(followup.customer, "email", by=None, source=Source("form"), how="in store", marketing=True)
    sending.send_due(ids=[followup.pk], now=followup.due_at)
    followup.refresh_from_db()
    assert followup.state == "sent", followup.last_error


def test_the_summary_kept_up_by_the_write_paths_equals_the_recount(policy, staff_user, manager_user, admin_user):
    cards = [closed(staff_user, staff_user) for _ in range(6)]
    assert ClosureSummary.objects.count() == 6
    assert sum(row["closures"] for row in tally()) == 6  # each has a survey and a callback planned
    assert_kept_up("closing and planning")

    (c0, f0), (c1, f1), (c2, f2), (c3, f3), (c4, f4), (c5, f5) = cards
    sent(f0[Kind.SURVEY])
    assert_kept_up("a survey sent")
    assert ClosureSummary.objects.get(closure=c0).sent == 1
    assert sum(row["sent"] for row in tally()) == 1
    record_answer(f0[Kind.SURVEY], source="survey", reason=reason("moved-away"), csat=4, nps=9)
    assert_kept_up("a survey sent and answered")
    row = ClosureSummary.objects.get(closure=c0)
    assert (row.sent, row.answered, row.answers, row.own_reason_id, row.csat, row.nps) == (
        1, 1, 1, reason("moved-away").pk, 4, 9,
    )  # fmt: skip

    callbacks.record_outcome(f0[Kind.CALLBACK], by=staff_user, outcome=Outcome.REACHED, other_reason="Too far", csat=2)
    assert_kept_up("a callback reached: a second answer to the same closure")
    assert ClosureSummary.objects.get(closure=c0).answers == 2

    callbacks.record_outcome(
        f1[Kind.CALLBACK], by=staff_user, outcome=Outcome.NOT_REACHED, retry_at=timezone.now() + timedelta(days=1)
    )
    assert_kept_up("a callback not reached")
    assert ClosureSummary.objects.get(closure=c1).pending == 1

    callbacks.record_outcome(f2[Kind.CALLBACK], by=manager_user, outcome=Outcome.COMES_BACK, note="Back")
    outbox.dispatch()
    assert_kept_up("a callback wanting to come back, reinstated at once")
    row = ClosureSummary.objects.get(closure=c2)
    assert row.reverted_at is not None and row.winback_kind == Kind.CALLBACK

    callbacks.record_outcome(f3[Kind.CALLBACK], by=staff_user, outcome=Outcome.COMES_BACK, note="Wants back")
    assert_kept_up("staff recording that the customer wants to come back")
    callbacks.confirm_reinstatement(f3[Kind.CALLBACK], by=manager_user)
    outbox.dispatch()
    assert_kept_up("a Manager confirming the reinstatement")
    assert ClosureSummary.objects.get(closure=c3).winback_kind == Kind.CALLBACK

    callbacks.record_outcome(f4[Kind.CALLBACK], by=staff_user, outcome=Outcome.COMES_BACK, note="Wants back")
    callbacks.decline_reinstatement(f4[Kind.CALLBACK], by=manager_user, note="Still owes money")
    assert_kept_up("a Manager declining the reinstatement")

    callbacks.record_outcome(f5[Kind.CALLBACK], by=staff_user, outcome=Outcome.DO_NOT_CONTACT)
    assert_kept_up("do not contact: the card's other follow-ups cancelled")
    assert ClosureSummary.objects.get(closure=c5).cancelled == 0  # the callback itself is done

    Followup.objects.filter(pk=f1[Kind.SURVEY].pk).update(state="failed", attempts=3, last_error="bounced")
    summary.refresh([c1.pk])
    callbacks.retry(f1[Kind.SURVEY], by=manager_user)
    assert_kept_up("a failed message retried")

    sent(f1[Kind.NOTICE])
    operations.reinstate(c1.customer, by=manager_user, note="Came back by themselves")
    outbox.dispatch()
    assert_kept_up("a card reinstated through its page: pending follow-ups cancelled")
    row = ClosureSummary.objects.get(closure=c1)
    assert row.reverted_at is not None and row.winback_kind == Kind.NOTICE and row.pending == 0

    card = c4.customer
    erasure.erase_customer(
        card, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation=card.customer_no
    )
    outbox.dispatch()
    assert_kept_up("a card erased")


def test_a_category_merge_moves_the_summary_rows(policy, staff_user):
    closure, _followups = closed(staff_user, staff_user, code="price")
    writes.recategorise(closure.category, "service")
    assert ClosureSummary.objects.get(closure=closure).category == "service"
    assert_kept_up("a category merge")


def test_the_rebuild_command_recounts_the_summary_and_the_activity_tally(policy, staff_user):
    closed(staff_user, staff_user)
    kept, kept_tally = rows(), tally()
    ClosureSummary.objects.all().delete()
    ActivityTally.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_followup_summary", stdout=out)
    assert (rows(), tally()) == (kept, kept_tally)
    assert "1 rows, activity tally 1." in out.getvalue()


def test_a_closure_without_follow_ups_has_no_row_until_it_is_reinstated(staff_user, manager_user):
    Rule.objects.all().delete()
    card = CustomerFactory(owner=staff_user)
    closure = operations.close_customer(card, ClosureChoice("close", reason("price")), by=staff_user)
    outbox.dispatch()
    assert not ClosureSummary.objects.exists()
    operations.reinstate(card, by=manager_user, note="Back")
    outbox.dispatch()
    assert ClosureSummary.objects.get().closure_id == closure.pk  # counted among the reinstatements
    assert_kept_up("a reinstatement without follow-ups")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_changes_to_one_closure_at_the_same_moment_both_reach_its_row():
    """Each transaction refreshes after its own change: the second waits for the first's commit
    (an advisory lock per closure), so it does not write a row computed without the first's change."""
    closure = ClosureFactory(customer=CustomerFactory())
    surveys = [
        Followup.objects.create(
            kind=Kind.SURVEY, channel="email", customer_id=closure.customer_id, closure=closure, due_at=timezone.now()
        )
        for _ in range(2)
    ]  # the closure has no summary row yet: both refreshes would insert one
    first_refreshed, errors = threading.Event(), []

    def send(i):
        try:
            with transaction.atomic():
                Followup.objects.filter(pk=surveys[i].pk).update(state="sent", sent_at=timezone.now())
                if i == 1:
                    first_refreshed.wait(10)
                summary.refresh([closure.pk])
                if i == 0:
                    first_refreshed.set()
                    time.sleep(0.5)  # the other transaction's refresh waits for this commit
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert ClosureSummary.objects.get(closure=closure).sent == 2
    assert [(row["closures"], row["sent"]) for row in tally()] == [(1, 2)]  # both differences added
