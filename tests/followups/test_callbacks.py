"""Recording what came of a callback: reached (the customer's own answer), not reached (a retry),
wants to come back (the card reinstated as won back), do not contact; who may record it."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm import outbox
from crm.audit_display import describe
from crm.models import AuditEntry
from customers.models import ContactConsent, Customer
from followups import callbacks
from followups.models import Answer, Followup
from followups.planner import add_working_days
from tests.factories import CustomerFactory, FollowupFactory, UserFactory

pytestmark = pytest.mark.django_db
Outcome = Followup.Outcome


def reason(code):
    return ClosureReason.objects.get(code=code)


def closed_callback(owner, by):
    """A card closed through the operation, and its callback as the planner would create it."""
    card = CustomerFactory(owner=owner)
    closure = operations.close_customer(card, ClosureChoice("close", reason("price")), by=by)
    return FollowupFactory(customer=card, closure=closure, assigned_to=owner)


def test_reached_records_the_customers_own_answer_and_the_callback_is_done(staff_user):
    callback = FollowupFactory(assigned_to=staff_user)

    callbacks.record_outcome(
        callback,
        by=staff_user,
        outcome=Outcome.REACHED,
        reason=reason("moved-away"),
        csat=4,
        nps=7,
        come_back="A shop near my new home",
        contact_again=True,
        note="Friendly call",
    )

    callback.refresh_from_db()
    assert (callback.state, callback.outcome, callback.done_by) == ("done", "reached", staff_user)
    answer = Answer.objects.get(followup=callback)
    assert (answer.source, answer.reason, answer.csat, answer.nps) == ("callback", reason("moved-away"), 4, 7)
    assert answer.closure == callback.closure and answer.recorded_by == staff_user
    assert ContactConsent.objects.get(customer=callback.customer, channel="phone").marketing is True
    assert AuditEntry.objects.filter(action="followup.outcome", customer_id=callback.customer_id).exists()


def test_scores_out_of_range_are_refused_next_to_their_fields(staff_user):
    callback = FollowupFactory(assigned_to=staff_user)
    with pytest.raises(ValidationError) as refused:
        callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.REACHED, csat=6, nps=11)
    assert set(refused.value.message_dict) == {"csat", "nps"}
    assert not Answer.objects.exists()


def test_not_reached_keeps_the_callback_pending_for_the_next_working_day(staff_user):
    callback = FollowupFactory(assigned_to=staff_user)
    before = timezone.now()

    callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.NOT_REACHED, note="No answer")

    callback.refresh_from_db()
    assert (callback.state, callback.outcome, callback.attempts, callback.note) == (
        "pending",
        "not_reached",
        1,
        "No answer",
    )
    expected = add_working_days(before, 1)
    assert abs((callback.due_at - expected).total_seconds()) < 60
    assert not Answer.objects.exists()


def test_not_reached_with_a_retry_time_is_due_then_and_a_past_time_is_refused(staff_user):
    callback = FollowupFactory(assigned_to=staff_user)
    later = timezone.now() + dt.timedelta(days=3, hours=2)
    callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.NOT_REACHED, retry_at=later)
    callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.NOT_REACHED, retry_at=later)
    callback.refresh_from_db()
    assert (callback.due_at, callback.attempts) == (later, 2)

    with pytest.raises(ValidationError) as refused:
        callbacks.record_outcome(
            callback, by=staff_user, outcome=Outcome.NOT_REACHED, retry_at=timezone.now() - dt.timedelta(hours=1)
        )
    assert "retry_at" in refused.value.message_dict
    callback.refresh_from_db()
    assert callback.attempts == 2


def test_a_manager_who_records_comes_back_reinstates_the_card_as_won_back(manager_user, staff_user):
    callback = closed_callback(owner=manager_user, by=staff_user)

    callbacks.record_outcome(callback, by=manager_user, outcome=Outcome.COMES_BACK, note="Will come back next week")

    callback.refresh_from_db()
    callback.customer.refresh_from_db()
    callback.closure.refresh_from_db()
    assert callback.customer.status == Customer.Status.ACTIVE
    assert callback.closure.reverted_by == manager_user
    assert callback.closure.revert_note == "Will come back next week"
    assert (callback.state, callback.outcome, callback.won_back) == ("done", "comes_back", True)
    entry = AuditEntry.objects.get(action="closure.reinstate", customer_id=callback.customer_id)
    assert entry.data["followup"] == callback.pk and entry.data["won_back"] == "callback"
    assert "Won back by a callback" in describe([entry], unmasked=True)[0].details


def test_staff_who_record_comes_back_leave_it_to_a_manager_who_reinstates_with_one_step(staff_user, manager_user):
    callback = closed_callback(owner=staff_user, by=staff_user)

    callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.COMES_BACK, note="Wants the card back")

    callback.refresh_from_db()
    callback.customer.refresh_from_db()
    assert callback.customer.status == Customer.Status.CLOSED
    assert (callback.state, callback.outcome, callback.won_back) == ("done", "comes_back", False)
    assert list(callbacks.to_reinstate()) == [callback]

    callbacks.confirm_reinstatement(callback, by=manager_user)

    callback.refresh_from_db()
    callback.customer.refresh_from_db()
    assert callback.customer.status == Customer.Status.ACTIVE and callback.won_back
    callback.closure.refresh_from_db()
    assert callback.closure.revert_note == "Wants the card back"
    entry = AuditEntry.objects.get(action="closure.reinstate", customer_id=callback.customer_id)
    assert entry.actor == manager_user and entry.data["followup"] == callback.pk
    assert not callbacks.to_reinstate().exists()


def test_staff_cannot_confirm_a_reinstatement(staff_user):
    callback = closed_callback(owner=staff_user, by=staff_user)
    callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.COMES_BACK, note="Wants the card back")
    with pytest.raises(ValidationError):
        callbacks.confirm_reinstatement(callback, by=staff_user)
    callback.customer.refresh_from_db()
    assert callback.customer.status == Customer.Status.CLOSED


def test_comes_back_needs_a_note(manager_user, staff_user):
    callback = closed_callback(owner=manager_user, by=staff_user)
    with pytest.raises(ValidationError) as refused:
        callbacks.record_outcome(callback, by=manager_user, outcome=Outcome.COMES_BACK, note="  ")
    assert "note" in refused.value.message_dict
    callback.refresh_from_db()
    assert callback.state == "pending"


def test_a_failed_reinstatement_leaves_the_callback_as_it_was(manager_user, staff_user):
    callback = FollowupFactory(assigned_to=manager_user, customer=CustomerFactory(status="active"))
    with pytest.raises(ValidationError):
        callbacks.record_outcome(callback, by=manager_user, outcome=Outcome.COMES_BACK, note="Back")
    callback.refresh_from_db()
    assert (callback.state, callback.outcome, callback.won_back) == ("pending", "", False)


def test_do_not_contact_blocks_every_channel_and_cancels_the_other_follow_ups(staff_user):
    callback = FollowupFactory(assigned_to=staff_user)
    survey = FollowupFactory(customer=callback.customer, closure=callback.closure, kind="survey", channel="email")
    sent = FollowupFactory(customer=callback.customer, closure=callback.closure, kind="notice", state="sent")

    callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.DO_NOT_CONTACT, note="Asked us to stop")

    consents = ContactConsent.objects.filter(customer=callback.customer)
    assert {(c.channel, c.do_not_contact) for c in consents} == {("email", True), ("sms", True), ("phone", True)}
    for row, state in ((callback, "done"), (survey, "cancelled"), (sent, "sent")):
        row.refresh_from_db()
        assert row.state == state
    assert callback.outcome == "do_not_contact"
    assert AuditEntry.objects.filter(action="customer.consent", customer_id=callback.customer_id).count() == 3


def test_only_the_assignee_or_a_manager_records_an_outcome(staff_user, manager_user):
    colleague = UserFactory(username="staff_zhou", role="Staff")
    callback = FollowupFactory(assigned_to=colleague)
    with pytest.raises(ValidationError, match="assigned to someone else"):
        callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.NOT_REACHED)
    callbacks.record_outcome(callback, by=manager_user, outcome=Outcome.NOT_REACHED)
    callback.refresh_from_db()
    assert callback.attempts == 1


def test_only_a_pending_callback_takes_an_outcome(staff_user):
    done = FollowupFactory(assigned_to=staff_user, state="done")
    survey = FollowupFactory(assigned_to=staff_user, kind="survey", channel="email")
    for followup in (done, survey):
        with pytest.raises(ValidationError):
            callbacks.record_outcome(followup, by=staff_user, outcome=Outcome.NOT_REACHED)
    done.refresh_from_db()
    assert done.attempts == 0


def test_a_callback_of_a_card_reinstated_meanwhile_takes_no_outcome(manager_user, staff_user):
    callback = closed_callback(owner=staff_user, by=staff_user)
    operations.reinstate(callback.customer, by=manager_user, note="Came back by themselves")
    with pytest.raises(ValidationError, match="reinstated meanwhile"):
        callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.NOT_REACHED)


def test_reinstating_through_the_card_cancels_the_callback_through_the_planner(manager_user, staff_user):
    callback = closed_callback(owner=staff_user, by=staff_user)
    callbacks.record_outcome(callback, by=manager_user, outcome=Outcome.COMES_BACK, note="Back")
    outbox.dispatch()  # the reinstatement's event: the planner cancels pending ones, not this done one
    callback.refresh_from_db()
    assert (callback.state, callback.won_back) == ("done", True)


def test_a_manager_may_keep_the_card_closed_saying_why_and_it_leaves_the_list(staff_user, manager_user, client):
    callback = closed_callback(owner=staff_user, by=staff_user)
    callbacks.record_outcome(callback, by=staff_user, outcome=Outcome.COMES_BACK, note="Wants the card back")

    with pytest.raises(ValidationError) as refused:
        callbacks.decline_reinstatement(callback, by=manager_user, note=" ")
    assert "note" in refused.value.message_dict
    with pytest.raises(ValidationError):
        callbacks.decline_reinstatement(callback, by=staff_user, note="还欠款")
    assert list(callbacks.to_reinstate()) == [callback]

    client.force_login(manager_user)
    response = client.post(f"/followups/{callback.pk}/decline/", {"note": "还欠款 ¥300"}, follow=True)

    callback.refresh_from_db()
    callback.customer.refresh_from_db()
    assert callback.customer.status == Customer.Status.CLOSED
    assert (callback.outcome, callback.won_back, callback.note) == ("stays_closed", False, "还欠款 ¥300")
    assert not callbacks.to_reinstate().exists()
    assert f"Card {callback.customer.customer_no} stays closed." in response.content.decode()
    entry = AuditEntry.objects.get(action="followup.decline")
    assert (entry.actor, entry.notes, entry.changes["outcome"]) == (
        manager_user,
        "还欠款 ¥300",
        ["comes_back", "stays_closed"],
    )
    with pytest.raises(ValidationError):  # decided once
        callbacks.confirm_reinstatement(callback, by=manager_user)
