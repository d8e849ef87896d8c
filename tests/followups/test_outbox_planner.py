"""The outbox and the planner: a closure that commits plans its follow-ups exactly once; one that
rolls back plans nothing; reinstating cancels them; erasing cancels them and wipes their personal data."""

import pytest
from django.db import transaction

from closures import erasure, operations
from closures.models import Closure, ClosureReason
from closures.rules import ClosureChoice
from crm import outbox
from crm.models import Event, EventReceipt
from customers import consent
from customers.gate import Source
from customers.models import ContactConsent, Customer
from followups.models import Answer, Followup, Kind, Rule
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def reason(code):
    return ClosureReason.objects.get(code=code)


@pytest.fixture
def policy(db):
    Rule.objects.all().delete()
    return [
        Rule.objects.create(action="close", kind=Kind.NOTICE, channel="email"),
        Rule.objects.create(action="close", kind=Kind.SURVEY, channel="email", delay_days=1),
        Rule.objects.create(
            action="close", segment="key", kind=Kind.CALLBACK, channel="phone", delay_days=3, working_days=True
        ),
        Rule.objects.create(action="close", category="price", kind=Kind.WINBACK, channel="email", delay_days=30),
    ]


def close(card, by, code="customer-request", action="close"):
    return operations.close_customer(card, ClosureChoice(action, reason(code)), by=by)


def test_a_closure_writes_its_event_in_its_own_transaction(staff_user):
    card = CustomerFactory()
    closure = close(card, staff_user, code="price")
    event = Event.objects.get(type="card.closed")
    assert (event.customer_id, event.object_id, event.actor_id) == (card.pk, str(closure.pk), staff_user.pk)
    assert event.payload["reason"] == closure.reason_id and event.payload["category"] == "price"
    assert card.name not in str(event.payload)  # ids and codes, never personal data


def test_a_closure_rolled_back_leaves_no_event_and_no_follow_up(staff_user, policy):
    card = CustomerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        close(card, staff_user)
        raise RuntimeError("the request failed after the closure was written")
    outbox.dispatch()
    assert not Event.objects.exists() and not Followup.objects.exists()
    card.refresh_from_db()
    assert card.status == Customer.Status.ACTIVE


def test_the_planner_follows_the_policy_by_action_category_and_segment(staff_user, policy):
    regular, key = CustomerFactory(), CustomerFactory(segment="key", owner=staff_user, language="en")
    close(regular, staff_user, code="price")
    close(key, staff_user, code="moved-away")
    void = CustomerFactory()
    close(void, staff_user, code="wrong-information", action="void")
    outbox.dispatch()
    planned = {(f.customer_id, f.kind) for f in Followup.objects.all()}
    assert planned == {
        (regular.pk, Kind.NOTICE),
        (regular.pk, Kind.SURVEY),
        (regular.pk, Kind.WINBACK),
        (key.pk, Kind.NOTICE),
        (key.pk, Kind.SURVEY),
        (key.pk, Kind.CALLBACK),
    }  # nothing for the voided record
    callback = Followup.objects.get(kind=Kind.CALLBACK)
    assert callback.assigned_to == staff_user and callback.language == "en"
    survey = Followup.objects.get(customer=regular, kind=Kind.SURVEY)
    closed_at = Closure.objects.get(customer=regular).performed_at
    assert (survey.due_at - closed_at).days == 1


def test_an_event_handed_over_again_plans_nothing_twice(staff_user, policy):
    close(CustomerFactory(), staff_user)
    outbox.dispatch()
    assert Followup.objects.count() == 2
    EventReceipt.objects.all().delete()  # as if the receipts were lost in a crash after the planning
    assert outbox.dispatch(["followups"]) == 1
    assert Followup.objects.count() == 2
    assert outbox.dispatch(["followups"]) == 0


def test_an_event_committed_after_a_later_one_was_handled_is_not_skipped(staff_user, policy):
    first, second = CustomerFactory(), CustomerFactory()
    close(first, staff_user)
    close(second, staff_user)
    late, early = Event.objects.order_by("id")
    EventReceipt.objects.create(consumer="followups", event=early)  # the later id handled first
    outbox.dispatch()
    assert set(Followup.objects.values_list("customer_id", flat=True)) == {first.pk}


def test_reinstating_cancels_the_pending_follow_ups(staff_user, manager_user, policy):
    card = CustomerFactory()
    close(card, staff_user)
    outbox.dispatch()
    operations.reinstate(card, by=manager_user, note="客户回来了")
    outbox.dispatch()
    assert set(Followup.objects.values_list("state", flat=True)) == {Followup.State.CANCELLED}


def test_erasing_cancels_the_follow_ups_and_wipes_their_personal_data(staff_user, admin_user, policy):
    card = CustomerFactory()
    closure = close(card, staff_user)
    outbox.dispatch()
    survey = Followup.objects.get(kind=Kind.SURVEY)
    Followup.objects.filter(pk=survey.pk).update(address="customer@example.cn", note="打过电话")
    Answer.objects.create(
        followup=survey,
        closure=closure,
        customer=card,
        source="survey",
        csat=2,
        other_reason="店员态度差",
        come_back="便宜一点",
    )
    consent.change(card, "email", by=None, source=Source("form"), how="张伟 signed in store", marketing=True)
    assert ContactConsent.objects.filter(customer=card).exists()
    erasure.erase_customer(
        card, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation=card.customer_no
    )
    outbox.dispatch()
    assert set(Followup.objects.values_list("state", flat=True)) == {Followup.State.CANCELLED}
    assert set(Followup.objects.values_list("address", "note")) == {("", "")}
    answer = Answer.objects.get()
    assert (answer.other_reason, answer.come_back, answer.csat) == ("", "", 2)  # the score stays for the figures
    assert not ContactConsent.objects.filter(customer=card).exists()  # how consent was given may quote them


def test_the_floor_moves_past_handled_events_only(staff_user, policy):
    from datetime import timedelta

    from django.utils import timezone

    from crm.models import OutboxFloor

    close(CustomerFactory(), staff_user)
    close(CustomerFactory(), staff_user)
    Event.objects.update(created_at=timezone.now() - timedelta(hours=1))
    first = Event.objects.order_by("id").first()
    EventReceipt.objects.create(consumer="followups", event=Event.objects.order_by("id").last())
    outbox._raise_floor(outbox.consumers()["followups"])
    assert not OutboxFloor.objects.filter(consumer="followups", event_id__gte=first.pk).exists()
    outbox.dispatch()
    assert OutboxFloor.objects.get(consumer="followups").event_id == Event.objects.order_by("id").last().pk
    assert list(outbox.pending("followups")) == []


def test_a_bulk_closure_plans_every_card_in_one_dispatch(manager_user, policy):
    from closures import bulk

    cards = CustomerFactory.create_batch(5)
    bulk.bulk_close([c.pk for c in cards], ClosureChoice("close", reason("long-inactive")), by=manager_user)
    assert Event.objects.filter(type="card.closed").count() == 5
    outbox.dispatch()
    assert Followup.objects.filter(kind=Kind.SURVEY).count() == 5


def test_a_transaction_rolled_back_does_not_keep_the_next_one_from_dispatching(
    staff_user, policy, django_capture_on_commit_callbacks
):
    with pytest.raises(RuntimeError), transaction.atomic():
        close(CustomerFactory(), staff_user)
        raise RuntimeError("rolled back")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        close(CustomerFactory(), staff_user)
    assert callbacks == [outbox.enqueue_dispatch]  # once, however many events
    assert Followup.objects.count() == 2  # dispatched inline (JOBS_RUN_INLINE in the tests)
