"""The follow-up page: the card and the closure in view, earlier answers, and the outcome form;
a Manager's one-button reinstatement of a customer who wants to come back."""

import pytest
from django.urls import reverse

from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from customers.models import Customer
from followups.models import Answer, Followup
from tests.factories import CustomerFactory, FollowupFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(followup) -> str:
    return reverse("followups:followup", args=[followup.pk])


def reason(code):
    return ClosureReason.objects.get(code=code)


@pytest.fixture
def closed_card_callback(staff_user, manager_user):
    card = CustomerFactory(owner=staff_user, customer_no="K500001", name="周小明")
    closure = operations.close_customer(
        card, ClosureChoice("close", reason("price"), notes="Found it cheaper elsewhere"), by=staff_user
    )
    return FollowupFactory(customer=card, closure=closure, assigned_to=staff_user)


def test_the_page_shows_the_card_the_closure_and_earlier_answers(staff_client, closed_card_callback):
    earlier = FollowupFactory(
        customer=closed_card_callback.customer, closure=closed_card_callback.closure, kind="survey", state="done"
    )
    Answer.objects.create(
        followup=earlier,
        closure=earlier.closure,
        customer=earlier.customer,
        source="survey",
        reason=reason("moved-away"),
        csat=2,
        come_back="<b>cheaper</b> prices",
    )

    html = staff_client.get(url(closed_card_callback)).content.decode()

    assert "K500001" in html and "周小明" in html
    assert reason("price").label_en in html and "Found it cheaper elsewhere" in html
    assert reason("moved-away").label_en in html
    assert "&lt;b&gt;cheaper&lt;/b&gt; prices" in html and "<b>cheaper</b>" not in html
    assert 'name="outcome"' in html and 'name="retry_at"' in html and 'name="csat"' in html


def test_recording_reached_through_the_form(staff_client, closed_card_callback):
    response = staff_client.post(
        url(closed_card_callback),
        {"outcome": "reached", "reason": reason("moved-away").pk, "csat": "5", "nps": "9", "contact_again": "no"},
        follow=True,
    )
    assert "Recorded: Reached." in response.content.decode()
    answer = Answer.objects.get(followup=closed_card_callback)
    assert (answer.reason, answer.csat, answer.nps, answer.contact_again) == (reason("moved-away"), 5, 9, False)
    assert 'name="outcome"' not in response.content.decode()  # nothing more to record


def test_form_errors_show_next_to_their_fields_and_nothing_is_written(staff_client, closed_card_callback):
    response = staff_client.post(url(closed_card_callback), {"outcome": "comes_back", "note": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_note_error"' in html and "the reinstatement&#x27;s note" in html
    response = staff_client.post(url(closed_card_callback), {"outcome": "reached", "csat": "9"})
    assert 'id="id_csat_error"' in response.content.decode()
    response = staff_client.post(url(closed_card_callback), {"outcome": "not_reached", "retry_at": "2001-01-01T10:00"})
    assert 'id="id_retry_at_error"' in response.content.decode()
    closed_card_callback.refresh_from_db()
    assert (closed_card_callback.state, closed_card_callback.attempts) == ("pending", 0)


def test_staff_record_comes_back_and_a_manager_reinstates_with_one_button(
    staff_client, manager_client, closed_card_callback
):
    staff_page = staff_client.post(
        url(closed_card_callback), {"outcome": "comes_back", "note": "Wants a new card"}, follow=True
    ).content.decode()
    assert "a Manager will reinstate the card" in staff_page
    assert reverse("followups:reinstate", args=[closed_card_callback.pk]) not in staff_page

    inbox = manager_client.get(reverse("inbox")).content.decode()
    assert "Won back, to reinstate" in inbox and "K500001" in inbox
    manager_page = manager_client.get(url(closed_card_callback)).content.decode()
    assert reverse("followups:reinstate", args=[closed_card_callback.pk]) in manager_page

    response = manager_client.post(reverse("followups:reinstate", args=[closed_card_callback.pk]), {"note": ""})

    assert response.status_code == 302
    closed_card_callback.refresh_from_db()
    closed_card_callback.customer.refresh_from_db()
    assert closed_card_callback.won_back and closed_card_callback.customer.status == Customer.Status.ACTIVE
    card = manager_client.get(reverse("customers:card", args=[closed_card_callback.customer_id])).content.decode()
    assert "Won back by a callback" in card


def test_another_staff_members_follow_up_is_refused(staff_client):
    colleague = UserFactory(username="staff_zhou", role="Staff")
    theirs = FollowupFactory(assigned_to=colleague)
    assert staff_client.get(url(theirs)).status_code == 403
    assert staff_client.post(url(theirs), {"outcome": "not_reached"}).status_code == 403
    theirs.refresh_from_db()
    assert theirs.attempts == 0


def test_the_page_in_chinese(staff_client, closed_card_callback):
    html = staff_client.get(url(closed_card_callback), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "记录回访" in html and "客户自己的原因" in html


def test_a_do_not_contact_outcome_through_the_form(staff_client, closed_card_callback):
    other = FollowupFactory(
        customer=closed_card_callback.customer, closure=closed_card_callback.closure, kind="winback"
    )
    staff_client.post(url(closed_card_callback), {"outcome": "do_not_contact"})
    other.refresh_from_db()
    assert other.state == Followup.State.CANCELLED


def test_a_second_submit_after_the_callback_is_done_says_why_nothing_was_recorded(staff_client, closed_card_callback):
    staff_client.post(url(closed_card_callback), {"outcome": "reached"})
    response = staff_client.post(url(closed_card_callback), {"outcome": "not_reached"})
    assert response.status_code == 200
    assert "nothing more to record" in response.content.decode()
    closed_card_callback.refresh_from_db()
    assert (closed_card_callback.outcome, closed_card_callback.attempts) == ("reached", 0)


def test_each_call_is_kept_in_the_history_and_on_the_cards_timeline(staff_client, closed_card_callback):
    staff_client.post(url(closed_card_callback), {"outcome": "not_reached", "note": "Voicemail, first try"})
    staff_client.post(url(closed_card_callback), {"outcome": "not_reached", "note": "Busy, second try"})

    page = staff_client.get(url(closed_card_callback)).content.decode()
    assert "Voicemail, first try" in page and "Busy, second try" in page
    assert "Outcome: Not reached" in page and "Next call:" in page
    card = staff_client.get(reverse("customers:card", args=[closed_card_callback.customer_id])).content.decode()
    assert "Callback recorded" in card and "Busy, second try" in card
