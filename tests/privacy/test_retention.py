"""Retention rules: the preview counts exactly what a run changes, held cards are left alone and
listed with why, a run goes through the erasure and leaves every analytics figure as it was."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from analytics import figures
from analytics.filters import ClosureFilter
from closures import erasure
from closures.models import Closure, ClosureReason
from closures.rules import ClosureChoice
from crm import audit, jobs
from crm.models import ERASED_MARKER, AuditEntry, Job
from customers.models import Customer, Interaction
from privacy import holds, requests, retention, retention_runs
from privacy.models import RetentionRule
from tests.factories import InteractionFactory, TicketFactory

from .retention_world import closed_card, switch_on

pytestmark = pytest.mark.django_db


def _run(admin_user, capture) -> Job:
    with capture(execute=True):
        job = retention_runs.start(by=admin_user)
    job.refresh_from_db()
    return job


def _erased(*cards) -> list[bool]:
    return [Customer.objects.get(pk=card.pk).is_erased for card in cards]


def test_rules_start_switched_off_with_conservative_ages():
    rules = {(r.status, r.action): (r.after_months, r.enabled) for r in RetentionRule.objects.all()}
    assert rules == {
        ("closed", "erase"): (36, False),
        ("void", "erase"): (12, False),
        ("closed", "wipe_notes"): (24, False),
        ("archived", "review"): (60, False),
    }


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (dt.date(2026, 3, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2024, 3, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2026, 1, 15), 36, dt.date(2023, 1, 15)),
        (dt.date(2026, 12, 7), 12, dt.date(2025, 12, 7)),
    ],
)
def test_a_rules_age_is_counted_in_calendar_months(day, months, expected):
    assert retention.months_before(day, months) == expected


def test_a_card_becomes_a_candidate_the_day_its_age_passes_the_rule(admin_user):
    rule = switch_on("closed", "erase", 36, by=admin_user)
    old, young = closed_card(36, days=1), closed_card(35)
    closed_card(40, status="void")  # another status: another rule
    assert set(retention.candidates(rule)) == {old}
    assert young not in retention.eligible(rule)


def test_the_preview_counts_eligible_and_held_cards_with_why(admin_user):
    rule = switch_on("closed", "erase", 36, by=admin_user)
    free = [closed_card(40) for _ in range(3)]
    on_hold = closed_card(40)
    holds.place(on_hold, "Court order 2026-17", by=admin_user)
    with_money = closed_card(40, balance=Decimal("12.50"))
    with_ticket = closed_card(40)
    TicketFactory(customer=with_ticket, status="in_progress")
    with_request = closed_card(40)
    requests.register(with_request, "access", timezone.localdate(), "", by=admin_user)

    shown = retention.preview(rule)

    assert (shown.candidates, shown.eligible, shown.held_total) == (7, 3, 4)
    assert shown.held == {"legal_hold": 1, "money": 1, "open_ticket": 1, "open_request": 1}
    assert [card.pk for card in shown.sample] == [card.pk for card in free]
    reasons = retention.why_held(retention.held(retention.candidates(rule)))
    assert reasons == {
        on_hold.pk: ["legal_hold"],
        with_money.pk: ["money"],
        with_ticket.pk: ["open_ticket"],
        with_request.pk: ["open_request"],
    }


def test_a_run_erases_exactly_the_cards_the_preview_counted_and_leaves_held_ones_whole(
    admin_user, django_capture_on_commit_callbacks
):
    switch_on("closed", "erase", 36, by=admin_user)
    switch_on("void", "erase", 12, by=admin_user)
    closed = [closed_card(37) for _ in range(4)]
    voided = [closed_card(13, status="void") for _ in range(2)]
    young = closed_card(30)
    held = closed_card(50, name="李保留")
    holds.place(held, "Dispute over a refund", by=admin_user)
    counted = sum(retention.preview(rule, sample=0).eligible for rule in RetentionRule.objects.filter(enabled=True))

    job = _run(admin_user, django_capture_on_commit_callbacks)

    assert job.state == Job.State.DONE, job.error
    assert counted == 6 and job.result["changed"] == 6
    assert _erased(*closed, *voided) == [True] * 6
    assert _erased(young, held) == [False, False]
    assert Customer.objects.get(pk=held.pk).name == "李保留"
    erasures = AuditEntry.objects.filter(action="closure.erase")
    assert sorted(erasures.values_list("customer_id", flat=True)) == sorted(c.pk for c in closed + voided)
    assert all("Retention rule" in notes for notes in erasures.values_list("notes", flat=True))
    report = {row["rule"]: row for row in job.result["rules"]}
    closed_rule = RetentionRule.objects.get(status="closed", action="erase")
    assert report[closed_rule.pk]["held"]["legal_hold"] == 1 and report[closed_rule.pk]["changed"] == 4
    assert AuditEntry.objects.filter(action="privacy.retention_run", object_id=str(job.pk)).count() == 1


def test_a_run_leaves_every_closure_analytics_figure_unchanged(admin_user, django_capture_on_commit_callbacks):
    switch_on("closed", "erase", 36, by=admin_user)
    switch_on("void", "erase", 12, by=admin_user)
    for months in (37, 40, 45, 60):
        closed_card(months, segment=Customer.Segment.KEY, city="杭州")
    closed_card(14, status="void")
    closed_card(3)

    def all_figures():
        fs = ClosureFilter({"period": "custom", "start": "2010-01-01", "end": timezone.localdate().isoformat()})
        assert fs.is_valid(), fs.errors
        return figures.compute(fs)

    before = all_figures()
    closures_before = list(
        Closure.objects.order_by("pk").values("action", "reason", "category", "segment", "performed_at")
    )
    job = _run(admin_user, django_capture_on_commit_callbacks)

    assert job.result["changed"] == 5
    assert all_figures() == before
    assert list(Closure.objects.order_by("pk").values("action", "reason", "category", "segment", "performed_at")) == (
        closures_before
    )
    assert set(Customer.objects.filter(status="erased").values_list("city", flat=True)) == {"杭州", "上海"}


def test_the_batch_forgets_the_erased_cards_values_in_entries_not_tied_to_them(
    admin_user, django_capture_on_commit_callbacks
):
    switch_on("closed", "erase", 36, by=admin_user)
    card = closed_card(40, name="欧阳修远")
    audit.record("customers.export", actor=admin_user, object_type="export", notes="search: 欧阳修远")

    _run(admin_user, django_capture_on_commit_callbacks)

    notes = AuditEntry.objects.get(action="customers.export").notes
    assert "欧阳修远" not in notes and ERASED_MARKER in notes
    assert Customer.objects.get(pk=card.pk).name == ERASED_MARKER


def test_a_worker_dying_mid_batch_leaves_no_card_half_erased_and_a_retry_finishes(
    admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(retention_runs, "BATCH", 3)
    switch_on("closed", "erase", 36, by=admin_user)
    cards = [closed_card(40, name=f"王{i}号") for i in range(7)]
    real_erase = retention_runs.erase_customer
    calls = []

    def dies_on_the_fifth(card, *args, **kwargs):
        calls.append(card.pk)
        if len(calls) == 5:
            raise RuntimeError("worker killed")
        return real_erase(card, *args, **kwargs)

    monkeypatch.setattr(retention_runs, "erase_customer", dies_on_the_fifth)
    job = _run(admin_user, django_capture_on_commit_callbacks)

    assert job.state == Job.State.FAILED and "worker killed" in job.error
    # The first batch committed; the second (cards 4 to 6) rolled back whole, the fourth card included.
    assert _erased(*cards) == [True, True, True, False, False, False, False]
    assert Customer.objects.get(pk=cards[3].pk).name == "王3号"
    assert not AuditEntry.objects.filter(action="closure.erase", customer_id=cards[3].pk).exists()

    monkeypatch.setattr(retention_runs, "erase_customer", real_erase)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.retry(job)
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.result["changed"] == 4
    assert _erased(*cards) == [True] * 7
    erasures = AuditEntry.objects.filter(action="closure.erase").values_list("customer_id", flat=True)
    assert sorted(erasures) == sorted(card.pk for card in cards)  # each card erased once


def test_a_card_the_erasure_refuses_is_skipped_and_reported(admin_user, django_capture_on_commit_callbacks):
    switch_on("closed", "erase", 36, by=admin_user)
    fine, refused = closed_card(40), closed_card(40)

    def refuse_one(locked):
        if locked.pk == refused.pk:
            raise ValidationError("Changed since the selection")

    erasure.register_check(refuse_one)
    try:
        job = _run(admin_user, django_capture_on_commit_callbacks)
    finally:
        erasure._CHECKS.remove(refuse_one)

    assert _erased(fine, refused) == [True, False]
    outcome = job.result["rules"][0]
    assert (outcome["changed"], outcome["skipped_count"]) == (1, 1)
    assert outcome["skipped"] == [[refused.customer_no, "Changed since the selection"]]


def test_wiping_interaction_notes_touches_only_the_text_of_old_closed_cards(
    admin_user, django_capture_on_commit_callbacks
):
    switch_on("closed", "wipe_notes", 24, by=admin_user)
    old, young = closed_card(30), closed_card(12)
    InteractionFactory(customer=old, summary="客户说搬去成都", outcome="同意")
    InteractionFactory(customer=young, summary="客户还在考虑", outcome="")
    AuditEntry.objects.create(
        action="customers.interaction", object_type="interaction", customer_id=old.pk, notes="客户说搬去成都"
    )

    job = _run(admin_user, django_capture_on_commit_callbacks)

    assert job.result["changed"] == 1
    assert list(Interaction.objects.filter(customer=old).values_list("summary", "outcome")) == [(ERASED_MARKER, "")]
    assert Interaction.objects.get(customer=young).summary == "客户还在考虑"
    assert AuditEntry.objects.get(action="customers.interaction").notes == ERASED_MARKER
    assert Customer.objects.get(pk=old.pk).status == "closed"  # the card itself is kept
    assert retention.preview(RetentionRule.objects.get(action="wipe_notes")).candidates == 0  # nothing left to wipe


def test_a_review_rule_changes_nothing_and_cannot_be_run_alone(admin_user):
    rule = switch_on("archived", "review", 60, by=admin_user)
    card = closed_card(61, status="archived")
    assert retention.preview(rule).eligible == 1
    with pytest.raises(ValidationError, match="No rule that changes data is switched on"):
        retention_runs.start(by=admin_user)
    assert Customer.objects.get(pk=card.pk).status == "archived"


def test_one_run_at_a_time_and_only_by_someone_who_may_erase(admin_user, manager_user):
    switch_on("closed", "erase", 36, by=admin_user)
    with pytest.raises(ValidationError, match="may no longer erase cards"):
        retention_runs.start(by=manager_user)
    Job.objects.create(kind=Job.Kind.PRIVACY_RETENTION, created_by=admin_user, state=Job.State.RUNNING)
    with pytest.raises(ValidationError, match="already queued or running"):
        retention_runs.start(by=admin_user)


def test_the_scheduled_run_acts_as_the_admin_who_last_switched_a_rule_on(
    admin_user, django_capture_on_commit_callbacks
):
    assert retention_runs.start_scheduled() is None  # every rule off: nothing to do
    switch_on("closed", "erase", 36, by=admin_user)
    card = closed_card(40)
    with django_capture_on_commit_callbacks(execute=True):
        job = retention_runs.start_scheduled()
    assert job.created_by == admin_user
    assert _erased(card) == [True]


# --- Legal holds ------------------------------------------------------------------------------


def test_a_legal_hold_blocks_erasure_until_released(admin_user):
    card = closed_card(2)
    hold = holds.place(card, "Tax audit 2026", by=admin_user)
    choice = ClosureChoice("erase", ClosureReason.objects.get(code="erasure-request"))
    with pytest.raises(ValidationError, match="under a legal hold \\(Tax audit 2026\\)"):
        erasure.erase_customer(card, choice, by=admin_user, confirmation=card.customer_no)
    assert _erased(card) == [False]

    holds.release(hold, "Audit closed", by=admin_user)
    erasure.erase_customer(card, choice, by=admin_user, confirmation=card.customer_no)
    assert _erased(card) == [True]
    actions = AuditEntry.objects.filter(customer_id=card.pk).order_by("id").values_list("action", flat=True)
    assert list(actions)[:2] == ["privacy.hold", "privacy.release"]


def test_a_hold_needs_a_reason_and_a_card_has_one_at_a_time(admin_user):
    card = closed_card(2)
    with pytest.raises(ValidationError) as caught:
        holds.place(card, "  ", by=admin_user)
    assert "reason" in caught.value.message_dict
    holds.place(card, "Dispute", by=admin_user)
    with pytest.raises(ValidationError, match="under a legal hold already"):
        holds.place(card, "Another", by=admin_user)
    with pytest.raises(ValidationError) as caught:
        holds.release(card.legal_holds.get(), "", by=admin_user)
    assert "note" in caught.value.message_dict


def test_the_cron_command_previews_and_runs(admin_user, capsys, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    switch_on("closed", "erase", 36, by=admin_user)
    card = closed_card(40)
    call_command("run_retention", "--preview")
    assert "closed / erase after 36 months (on): 1 eligible, 0 held (none)" in capsys.readouterr().out
    assert _erased(card) == [False]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_retention")
    assert "Done, 1 cards changed." in capsys.readouterr().out
    assert _erased(card) == [True]


def test_a_run_whose_worker_died_is_failed_and_the_next_run_resumes(admin_user, django_capture_on_commit_callbacks):
    switch_on("closed", "erase", 36, by=admin_user)
    card = closed_card(40)
    stale = timezone.now() - jobs.STALE_AFTER - dt.timedelta(seconds=5)
    dead = Job.objects.create(
        kind=Job.Kind.PRIVACY_RETENTION, created_by=admin_user, state=Job.State.RUNNING, heartbeat_at=stale
    )

    job = _run(admin_user, django_capture_on_commit_callbacks)

    dead.refresh_from_db()
    assert (dead.state, dead.error) == (Job.State.FAILED, jobs.WORKER_DIED)
    assert job.state == Job.State.DONE and _erased(card) == [True]
