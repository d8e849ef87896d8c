"""At the moment of sending, each follow-up is checked again: consent (no survey or offer without
marketing consent, nothing to "do not contact", a notice needs none), the card's state (reinstated
before it was due: cancelled; erased: cancelled) and an address; callbacks are never sent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from closures import operations
from customers.models import ContactConsent
from followups import sending
from followups.models import Followup, Kind, Rule
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def price_closure(close_card):
    """A key account closed for price: notice now; survey, win-back and callback later."""

    def close(card):
        close_card(card, code="price")
        Followup.objects.filter(customer=card).update(due_at=timezone.now() - timedelta(minutes=1))
        return {f.kind: f for f in Followup.objects.filter(customer=card)}

    return close


def states(card):
    return {f.kind: (f.state, f.last_error) for f in Followup.objects.filter(customer=card)}


def test_no_survey_or_offer_without_marketing_consent_but_the_notice_is_sent(smtp_server, price_closure):
    card = CustomerFactory(email="a@example.cn", segment="key", language="en")
    price_closure(card)

    tally = sending.send_due()

    found = states(card)
    assert found[Kind.NOTICE][0] == Followup.State.SENT
    refusal = "The customer has not agreed to surveys and offers by E-mail."
    assert found[Kind.SURVEY] == (Followup.State.SKIPPED, refusal)
    assert found[Kind.WINBACK] == (Followup.State.SKIPPED, refusal)
    assert found[Kind.CALLBACK] == (Followup.State.PENDING, "")  # worked by staff, never sent
    assert [m["Subject"] for m in smtp_server.messages] == [f"Your card {card.customer_no} has been closed"]
    assert (tally.sent, tally.skipped) == (1, 2)


def test_with_marketing_consent_the_win_back_offer_is_sent(smtp_server, price_closure):
    card = CustomerFactory(email="a@example.cn", language="en")
    ContactConsent.objects.create(customer=card, channel="email", marketing=True)
    price_closure(card)
    Followup.objects.filter(kind=Kind.SURVEY).delete()  # the survey page belongs to another part

    sending.send_due()

    assert states(card)[Kind.WINBACK] == (Followup.State.SENT, "")
    subjects = {m["Subject"] for m in smtp_server.messages}
    assert subjects == {f"Your card {card.customer_no} has been closed", f"We would love to see you again, {card.name}"}
    offer = next(m for m in smtp_server.messages if m["Subject"].startswith("We would"))
    assert "To stop surveys and offers by e-mail:" in smtp_server.text(offer)


def test_nothing_at_all_is_sent_to_do_not_contact(smtp_server, price_closure):
    card = CustomerFactory(email="a@example.cn", language="en")
    ContactConsent.objects.create(customer=card, channel="email", marketing=True, do_not_contact=True)
    price_closure(card)

    sending.send_due()

    assert smtp_server.messages == []
    skipped = {k: v for k, v in states(card).items() if k != Kind.CALLBACK}
    assert set(skipped.values()) == {(Followup.State.SKIPPED, "The customer asked not to be contacted by E-mail.")}


def test_a_notice_refused_as_a_service_message_is_skipped(smtp_server, close_card):
    card = CustomerFactory(email="a@example.cn", language="en")
    ContactConsent.objects.create(customer=card, channel="email", service=False)
    close_card(card)
    sending.send_due()
    assert smtp_server.messages == []
    assert states(card)[Kind.NOTICE] == (
        Followup.State.SKIPPED,
        "The customer does not accept service messages by E-mail.",
    )


def test_a_card_without_an_email_address_is_skipped_with_the_reason(smtp_server, close_card):
    card = CustomerFactory(email="", language="en")
    close_card(card)
    sending.send_due()
    assert states(card)[Kind.NOTICE] == (Followup.State.SKIPPED, "The customer has no e-mail address.")


def test_a_follow_up_whose_closure_was_reinstated_before_it_was_due_is_not_sent(smtp_server, close_card, manager_user):
    card = CustomerFactory(email="a@example.cn", language="en")
    close_card(card)
    operations.reinstate(card, by=manager_user, note="回来了")  # the planner has not heard of it yet
    tally = sending.send_due()
    assert smtp_server.messages == [] and tally.cancelled == 1
    assert states(card)[Kind.NOTICE] == (Followup.State.CANCELLED, "The card was reinstated.")


def test_an_erased_card_gets_nothing(smtp_server, close_card):
    card = CustomerFactory(email="a@example.cn", language="en")
    close_card(card)
    card.__class__.objects.filter(pk=card.pk).update(status="erased")
    sending.send_due()
    assert smtp_server.messages == []
    assert states(card)[Kind.NOTICE] == (Followup.State.CANCELLED, "The card was deleted.")


def test_what_is_not_yet_due_waits(smtp_server, close_card):
    card = CustomerFactory(email="a@example.cn")
    close_card(card)
    sending.send_due()
    survey = Followup.objects.get(customer=card, kind=Kind.SURVEY)
    assert survey.state == Followup.State.PENDING and survey.attempts == 0
    assert len(smtp_server.messages) == 1


def test_void_and_archive_send_nothing_by_default(smtp_server, close_card):
    close_card(CustomerFactory(email="a@example.cn"), code="wrong-information", action="void")
    assert not Followup.objects.exists()
    assert Rule.objects.filter(action="close").count() == 5


def test_the_limit_bounds_one_sweep(smtp_server, close_card):
    for _ in range(3):
        close_card(CustomerFactory())
    assert sending.send_due(limit=2).sent == 2
    assert sending.send_due(limit=2).sent == 1
    assert len(smtp_server.messages) == 3
