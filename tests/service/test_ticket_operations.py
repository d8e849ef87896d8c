"""The ticket operations: one state machine, row-locked, audited, with refusals a user can read."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.models import AuditEntry, Event
from service import operations, states
from service.models import Status, Step, Ticket

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _open(desk, complaint, **kwargs):
    values = {"subject": "洗衣机漏水", "category": complaint, "channel": "phone", "priority": "high", "need": "上门维修"}
    return operations.open_ticket(desk["card"], by=desk["agent"], **{**values, **kwargs})


def test_opening_a_ticket_numbers_it_by_year_and_sets_its_sla(desk, complaint):
    first, second = _open(desk, complaint), _open(desk, complaint)
    year = first.created_at.astimezone(dt.UTC).year
    assert first.number.startswith(f"S{year}-") and first.number.endswith("000001")
    assert second.number.endswith("000002")
    assert first.status == Status.NEW and first.first_response_minutes == 120 and first.resolution_due
    entry = AuditEntry.objects.get(action="ticket.open", object_id=str(first.pk))
    assert entry.customer_id == desk["card"].pk and first.number in entry.summary
    assert Event.objects.filter(type="ticket.open", object_id=str(first.pk)).count() == 1


def test_a_ticket_needs_a_subject_and_a_valid_card(desk, complaint):
    with pytest.raises(ValidationError) as error:
        _open(desk, complaint, subject="  ")
    assert "subject" in error.value.message_dict
    desk["card"].status = "void"
    desk["card"].save()
    with pytest.raises(ValidationError, match="valid card"):
        _open(desk, complaint)
    assert not Ticket.objects.exists()


def test_the_whole_life_of_a_ticket(desk, complaint):
    ticket = _open(desk, complaint)
    operations.take(ticket, by=desk["agent"])
    operations.add_step(ticket, by=desk["agent"], kind="reply", content="已约明天上门", minutes_spent=10)
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.first_response_at is not None
    operations.wait_for_customer(ticket, by=desk["agent"], note="等客户发照片")
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING and ticket.paused_since is not None
    operations.resume(ticket, by=desk["agent"])
    operations.resolve(ticket, by=desk["agent"], note="更换进水阀")
    operations.close(ticket, by=desk["agent"])
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.closed_at and ticket.paused_since is None
    operations.reopen(ticket, by=desk["agent"], note="又漏了")
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED and ticket.reopen_count == 1 and ticket.resolved_at is None
    kinds = list(ticket.steps.values_list("new_status", flat=True))
    assert kinds == ["new", "assigned", "in_progress", "waiting", "in_progress", "resolved", "closed", "assigned"]
    assert AuditEntry.objects.filter(customer_id=desk["card"].pk, action__startswith="ticket.").count() == 8


@pytest.mark.parametrize("operation", ["resume", "close"])
def test_a_transition_the_state_machine_does_not_allow_is_refused_in_words(desk, complaint, operation):
    ticket = _open(desk, complaint)
    with pytest.raises(ValidationError, match="This ticket is new: it cannot be"):
        getattr(operations, operation)(ticket, by=desk["agent"])
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_a_closed_ticket_must_be_reopened_before_more_work(desk, complaint):
    ticket = _open(desk, complaint)
    operations.resolve(ticket, by=desk["agent"], note="done")
    with pytest.raises(ValidationError, match="Reopen it first"):
        operations.add_step(ticket, by=desk["agent"], kind="work", content="more")


def test_notes_are_required_where_a_decision_needs_a_reason(desk, complaint):
    ticket = _open(desk, complaint)
    for call in (operations.resolve, operations.cancel, operations.wait_for_customer):
        with pytest.raises(ValidationError) as error:
            call(ticket, by=desk["agent"], note=" ")
        assert "note" in error.value.message_dict
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version


def test_taking_a_ticket_someone_has_says_who(desk, complaint):
    ticket = _open(desk, complaint)
    operations.take(ticket, by=desk["agent"])
    with pytest.raises(ValidationError, match="agent has already taken this ticket"):
        operations.take(ticket, by=desk["colleague"])


def test_staff_work_their_own_their_teams_and_unassigned_tickets_only(desk, complaint):
    ticket = _open(desk, complaint, assignee=desk["agent"])
    assert ticket.team == desk["desk"]
    operations.add_step(ticket, by=desk["colleague"], kind="note", content="同组帮忙")  # same team
    with pytest.raises(ValidationError, match="agent has this ticket"):
        operations.add_step(ticket, by=desk["fixer"], kind="note", content="别的组")


def test_hand_off_moves_the_ticket_to_the_other_teams_queue_with_the_note(desk, complaint):
    ticket = _open(desk, complaint, assignee=desk["agent"])
    operations.hand_off(ticket, to_team=desk["after_sales"], by=desk["agent"], note="需要上门维修")
    ticket.refresh_from_db()
    assert ticket.team == desk["after_sales"] and ticket.assignee is None and ticket.status == Status.NEW
    step = ticket.steps.get(kind=Step.Kind.HANDOFF)
    assert step.from_team == desk["desk"] and step.to_team == desk["after_sales"] and step.content == "需要上门维修"
    operations.take(ticket, by=desk["fixer"])
    operations.resolve(ticket, by=desk["fixer"], note="修好了")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED


def test_only_managers_reassign_and_change_the_sla(desk, complaint):
    ticket = _open(desk, complaint, assignee=desk["agent"])
    with pytest.raises(ValidationError, match="Only a Manager"):
        operations.assign(ticket, to=desk["colleague"], by=desk["agent"])
    operations.bulk_reassign([ticket.pk], to=desk["fixer"], by=desk["manager"], note="休假")
    ticket.refresh_from_db()
    assert ticket.assignee == desk["fixer"] and ticket.team == desk["after_sales"]
    with pytest.raises(ValidationError, match="Only a Manager"):
        operations.change_sla(ticket, by=desk["agent"], first_response_minutes=60, resolution_minutes=60, note="x")
    operations.change_sla(ticket, by=desk["manager"], first_response_minutes=60, resolution_minutes=600, note="VIP")
    ticket.refresh_from_db()
    assert ticket.resolution_minutes == 600
    entry = AuditEntry.objects.get(action="ticket.change_sla")
    assert entry.changes["resolution_minutes"] == [1080, 600] and entry.notes == "VIP"


def test_an_attachment_is_checked_by_its_content(desk, complaint, settings):
    ticket = _open(desk, complaint)
    step = operations.add_step(
        ticket, by=desk["agent"], kind="work", content="照片", attachment=SimpleUploadedFile("leak.png", PNG)
    )
    assert step.attachment_type == "image/png" and step.attachment.name.endswith("leak.png")
    html = SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>", content_type="image/png")
    with pytest.raises(ValidationError, match="Only images"):
        operations.add_step(ticket, by=desk["agent"], kind="work", content="x", attachment=html)
    settings.SERVICE_ATTACHMENT_MAX_MB = 1
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 1))
    with pytest.raises(ValidationError, match="too big"):
        operations.add_step(ticket, by=desk["agent"], kind="work", content="x", attachment=big)
    assert ticket.steps.filter(kind="work").count() == 1


def test_every_open_status_can_be_resolved_or_cancelled_and_the_done_ones_only_reopened():
    for status in (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING):
        assert {"resolve", "cancel", "hand_off"} <= set(states.available(status)), status
    assert states.available(Status.RESOLVED) == ["close", "reopen"]
    assert states.available(Status.CLOSED) == ["reopen"]
    assert states.available(Status.CANCELLED) == []  # a cancelled ticket is kept as it was


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_agents_taking_the_same_unassigned_ticket_one_wins_the_other_is_told_who(desk, complaint):
    from tests.concurrency import run_together

    ticket = _open(desk, complaint)
    results = run_together(
        lambda: operations.take(ticket.pk, by=desk["agent"]), lambda: operations.take(ticket.pk, by=desk["colleague"])
    )
    taken = [r for r in results if isinstance(r, Ticket)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(taken) == 1 and len(refused) == 1, results
    winner = taken[0].assignee.get_username()
    assert f"{winner} has already taken this ticket" in refused[0].messages[0]
    assert Ticket.objects.get(pk=ticket.pk).assignee.get_username() == winner
    assert AuditEntry.objects.filter(action="ticket.take").count() == 1
