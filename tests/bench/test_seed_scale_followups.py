"""seed_scale after the closure: consent, follow-ups, answers and improvements consistent the way
the planner, the senders and record_answer leave them. Loaded small (3,000 cards, 1,500 closures);
the benchmark loads a million with the same SQL."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Q

from bench.management.commands.seed_scale import Command as SeedScale
from bench.scale.marker import MARKER, VERSION, read_marker
from closures.models import Closure
from crm import outbox
from crm.models import AuditEntry, Event
from customers.models import ContactConsent, Customer
from followups.models import Answer, ClosureSummary, Followup, Improvement
from tests.module_data import kept_for_module

pytestmark = [pytest.mark.postgres, pytest.mark.django_db, pytest.mark.xdist_group("seed_scale_followups")]


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """Loaded once for the module (tests/module_data.py); a test that reseeds is undone after it."""
    with kept_for_module(django_db_blocker):
        call_command(SeedScale(), customers=3000, closures=1500, nice=0, stdout=io.StringIO())
        yield


def test_only_card_closures_have_follow_ups_and_each_has_its_notice_and_survey(loaded):
    assert Followup.objects.exists()
    assert not Followup.objects.exclude(closure__action="close").exists()
    assert not Followup.objects.exclude(customer_id=F("closure__customer_id")).exists()
    closed = Closure.objects.filter(action="close")
    for kind in ("notice", "survey"):
        assert Followup.objects.filter(kind=kind).count() == closed.count()
    price_or_competitor = closed.filter(category__in=["price", "competitor"])
    assert Followup.objects.filter(kind="winback").count() == price_or_competitor.count()
    assert Followup.objects.filter(kind="callback").count() == closed.filter(segment="key").count()
    callbacks = Followup.objects.filter(kind="callback")
    assert not callbacks.filter(closure__owner__isnull=False).exclude(assigned_to_id=F("closure__owner_id")).exists()
    assert not callbacks.filter(closure__owner__isnull=True, assigned_to__isnull=False).exists()  # the team's


def test_every_state_is_one_the_app_could_have_left(loaded):
    followups = Followup.objects.all()
    states = set(followups.values_list("state", flat=True))
    assert {"pending", "sent", "done", "skipped", "cancelled", "failed"} <= states
    assert not followups.filter(state="sent", sent_at=None).exists()
    assert not followups.filter(state="failed", last_error="").exists()
    assert not followups.filter(state="done", done_at=None).exists()
    assert not followups.filter(state="pending").exclude(Q(done_at=None) & Q(sent_at=None)).exists()
    # Nothing pending on a card that was reinstated or erased: those were cancelled.
    assert not followups.filter(state="pending", closure__reverted_at__isnull=False).exists()
    assert not followups.filter(state="pending", closure__customer_erased=True).exists()
    # Erasure wiped the personal data of the follow-ups and answers.
    erased = followups.filter(closure__customer_erased=True)
    assert erased.exists() and not erased.exclude(address="", note="").exists()
    assert not Answer.objects.filter(closure__customer_erased=True).exclude(other_reason="", come_back="").exists()
    # The queues have work: callbacks still to do, for several staff.
    pending = followups.filter(kind="callback", state="pending")
    assert pending.values("assigned_to").distinct().count() >= 3


def test_messages_respect_consent(loaded):
    sent = Followup.objects.filter(state__in=["sent", "done"]).exclude(kind="callback")
    refused = ContactConsent.objects.filter(do_not_contact=True).values("customer_id", "channel")
    for row in refused:
        assert not sent.filter(customer_id=row["customer_id"], channel=row["channel"]).exists()
    allowed = set(ContactConsent.objects.filter(marketing=True).values_list("customer_id", "channel"))
    for customer_id, channel in sent.filter(kind__in=["survey", "winback"]).values_list("customer_id", "channel"):
        assert (customer_id, channel) in allowed
    cards = Customer.objects.not_erased().count()
    marketing = ContactConsent.objects.filter(marketing=True).values("customer").distinct().count()
    refusing = ContactConsent.objects.filter(do_not_contact=True).values("customer").distinct().count()
    assert 0.33 * cards < marketing < 0.47 * cards
    assert 0.005 * cards < refusing < 0.04 * cards
    assert 0.15 * cards < Customer.objects.filter(language="en").count() < 0.35 * cards


def test_every_answer_belongs_to_an_answered_survey_or_a_reached_callback_of_its_closure(loaded):
    answers = Answer.objects.select_related("followup")
    assert answers.filter(source="survey").exists() and answers.filter(source="callback").exists()
    for answer in answers:
        followup = answer.followup
        assert (answer.closure_id, answer.customer_id) == (followup.closure_id, followup.customer_id)
        assert followup.answered_at == answer.answered_at and followup.state == "done"
        if answer.source == "survey":
            assert followup.kind == "survey" and followup.sent_at is not None
            assert followup.sent_at < answer.answered_at
        else:
            assert followup.kind == "callback" and followup.outcome == "reached"
        assert answer.csat is None or 1 <= answer.csat <= 5
        assert answer.nps is None or 0 <= answer.nps <= 10
    surveys_sent = Followup.objects.filter(kind="survey", sent_at__isnull=False).count()
    assert 0.15 * surveys_sent < answers.filter(source="survey").count() < 0.3 * surveys_sent
    # Mostly the reason staff recorded, not always: the matrix has a diagonal and the rest.
    same = answers.filter(reason_id=F("closure__reason_id")).count()
    assert 0.5 * answers.count() < same < 0.9 * answers.count()
    # Each answer is on its card's timeline.
    audited = set(AuditEntry.objects.filter(action="followup.answer").values_list("object_id", flat=True))
    assert audited == {str(pk) for pk in answers.values_list("pk", flat=True)}


def test_won_back_only_by_a_follow_up_before_the_reinstatement(loaded):
    won = Followup.objects.filter(won_back=True).select_related("closure")
    assert won.exists()
    for followup in won:
        assert followup.closure.reverted_at is not None
        assert (followup.sent_at or followup.done_at) < followup.closure.reverted_at  # sent, or called
        assert followup.kind != "callback" or followup.outcome == "comes_back"
    assert won.values("closure").distinct().count() == won.count()


def test_no_event_is_left_for_the_planner_and_improvements_are_there(loaded):
    assert not Event.objects.exists()
    assert not outbox.pending("followups").exists()
    assert Improvement.objects.count() == 4


def test_a_reseed_replaces_the_follow_ups_instead_of_adding_to_them(loaded):
    counts = (Followup.objects.count(), Answer.objects.count(), ContactConsent.objects.count())
    call_command(SeedScale(), customers=3000, closures=1500, nice=0, reset=True, stdout=io.StringIO())
    assert (Followup.objects.count(), Answer.objects.count(), ContactConsent.objects.count()) == counts
    assert Improvement.objects.count() == 4


def test_a_data_set_loaded_by_an_older_seed_scale_is_rebuilt_with_the_follow_ups(loaded):
    marker = read_marker()
    with connection.cursor() as cursor:
        cursor.execute("COMMENT ON TABLE customers_customer IS %s", [MARKER + json.dumps(marker | {"version": 1})])
    out = io.StringIO()
    call_command(SeedScale(), customers=3000, closures=1500, nice=0, stdout=out)
    assert "older seed_scale (version 1" in out.getvalue()
    assert read_marker()["version"] == VERSION
    assert Improvement.objects.count() == 4  # rebuilt, not added to


def test_the_follow_up_panels_summary_is_filled_and_emptied_with_a_reseed(loaded):
    summarised = Closure.objects.filter(
        Q(followups__isnull=False) | Q(answers__isnull=False) | Q(reverted_at__isnull=False)
    ).distinct()
    assert ClosureSummary.objects.count() == summarised.count() > 0
    call_command(SeedScale(), customers=3000, closures=1500, nice=0, reset=True, stdout=io.StringIO())
    assert ClosureSummary.objects.count() == summarised.count()
