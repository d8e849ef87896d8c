"""The ticket page: its facts, SLA and steps, the forms of what can be done next, each action's
POST view calling the ticket operation, refusals shown on the page (400, never a 500)."""

import pytest
from django.test import Client
from django.urls import reverse

from service import operations
from service.models import Status, Step, Ticket

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_ticket(desk, complaint, **kwargs):
    values = {
        "subject": "洗衣机漏水",
        "category": complaint,
        "channel": "phone",
        "priority": "high",
        "need": "上门维修",
    }
    return operations.open_ticket(desk["card"], by=desk["agent"], **{**values, **kwargs})


def page(client, ticket) -> str:
    response = client.get(reverse("service:ticket", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def post(client, name, ticket, data=None, **extra):
    return client.post(reverse(f"service:{name}", args=[ticket.pk]), data or {}, **extra)


def test_the_page_shows_the_ticket_its_sla_and_the_buttons_its_status_allows(desk, complaint):
    ticket = open_ticket(desk, complaint)
    html = page(client_for(desk["agent"]), ticket)
    assert ticket.number in html and "洗衣机漏水" in html and "上门维修" in html and "C000201" in html
    assert "within 120 working minutes" in html  # the high-priority first-response target
    for button in ("Take", "Start", "Add step", "Hand off", "Wait for customer", "Resolve", "Cancel ticket"):
        assert f">{button}</button>" in html, button
    for absent in ("Reopen", "Resume", "Assign", "Change SLA"):
        assert f">{absent}</button>" not in html, absent


def test_a_staff_member_takes_a_ticket_then_adds_a_reply_that_counts_as_the_first_response(desk, complaint):
    ticket = open_ticket(desk, complaint)
    client = client_for(desk["agent"])
    response = post(client, "take", ticket)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == desk["agent"] and ticket.status == Status.ASSIGNED
    data = {
        "step-kind": "reply",
        "step-content": "已安排周六上门",
        "step-result": "客户同意",
        "step-minutes_spent": "15",
    }
    assert post(client, "step", ticket, data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.first_response_at is not None
    step = ticket.steps.get(kind=Step.Kind.REPLY)
    assert step.content == "已安排周六上门" and step.result == "客户同意" and step.minutes_spent == 15
    html = page(client, ticket)
    assert "已安排周六上门" in html and "Told the customer" in html and "15 minutes spent" in html


def test_internal_notes_and_replies_read_differently_on_the_timeline(desk, complaint):
    ticket = open_ticket(desk, complaint, assignee=desk["agent"])
    operations.add_step(ticket, by=desk["agent"], kind="note", content="仓库缺货，内部跟进")
    operations.add_step(ticket, by=desk["agent"], kind="reply", content="已告知客户预计三天")
    html = page(client_for(desk["agent"]), ticket)
    note_at, reply_at = html.index("仓库缺货"), html.index("已告知客户")
    assert html.rfind("Internal note", 0, note_at) > html.rfind("Told the customer", 0, note_at)
    assert html.rfind("Told the customer", 0, reply_at) > note_at


def test_a_hand_off_shows_from_which_team_to_which_with_its_note(desk, complaint):
    ticket = open_ticket(desk, complaint, assignee=desk["agent"])
    data = {"hand_off-team": desk["after_sales"].pk, "hand_off-note": "需要售后上门"}
    assert post(client_for(desk["agent"]), "hand_off", ticket, data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.team == desk["after_sales"] and ticket.assignee is None and ticket.status == Status.NEW
    html = page(client_for(desk["fixer"]), ticket)
    assert "from Service desk → to After-sales" in html and "需要售后上门" in html
    assert ">Take</button>" in html


def test_a_hand_off_without_a_note_is_refused_next_to_the_note_with_a_400(desk, complaint):
    ticket = open_ticket(desk, complaint, assignee=desk["agent"])
    response = post(client_for(desk["agent"]), "hand_off", ticket, {"hand_off-team": desk["after_sales"].pk})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_hand_off-note_error"' in html and "Say what the other team should know." in html
    ticket.refresh_from_db()
    assert ticket.team == desk["desk"] and not ticket.steps.filter(kind=Step.Kind.HANDOFF).exists()


def test_waiting_pauses_then_resume_resolve_close_and_reopen_with_notes(desk, complaint):
    ticket = open_ticket(desk, complaint, assignee=desk["agent"])
    client = client_for(desk["agent"])
    assert post(client, "wait", ticket, {"wait-note": "等客户发照片"}).status_code == 302
    html = page(client, ticket)
    assert "Paused" in html and ">Resume</button>" in html and ">Add step</button>" in html
    assert post(client, "resume", ticket, {"resume-note": ""}).status_code == 302
    assert post(client, "resolve", ticket, {"resolve-note": "更换密封圈"}).status_code == 302
    assert post(client, "close", ticket, {"close-note": ""}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    html = page(client, ticket)
    assert ">Reopen</button>" in html and ">Resolve</button>" not in html
    assert post(client, "reopen", ticket, {"reopen-note": ""}).status_code == 400  # a note is needed
    assert post(client, "reopen", ticket, {"reopen-note": "又漏水了"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED and ticket.reopen_count == 1


def test_an_action_the_status_does_not_allow_is_refused_with_the_state_machines_words(desk, complaint):
    ticket = open_ticket(desk, complaint, assignee=desk["agent"])
    response = post(client_for(desk["agent"]), "close", ticket, {"close-note": ""})
    assert response.status_code == 400
    assert "it cannot be closed" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED


def test_cancel_needs_a_note(desk, complaint):
    ticket = open_ticket(desk, complaint, assignee=desk["agent"])
    client = client_for(desk["agent"])
    response = post(client, "cancel", ticket, {"cancel-note": " "})
    assert response.status_code == 400 and "Say why the ticket is cancelled." in response.content.decode()
    assert post(client, "cancel", ticket, {"cancel-note": "重复的单"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED


def test_staff_may_read_but_not_work_a_ticket_someone_outside_their_team_has(desk, complaint):
    ticket = open_ticket(desk, complaint, team=desk["after_sales"], assignee=desk["fixer"])
    client = client_for(desk["agent"])
    html = page(client, ticket)
    assert "fixer has this ticket" in html and ">Add step</button>" not in html
    response = post(client, "step", ticket, {"step-kind": "work", "step-content": "我来看看"})
    assert response.status_code == 403  # not theirs to work: forbidden, with the reason on the page
    assert "fixer has this ticket; ask them or a Manager." in response.content.decode()
    assert not ticket.steps.filter(kind=Step.Kind.WORK).exists()


def test_two_agents_take_the_same_ticket_and_the_second_is_told_who_has_it(desk, complaint):
    ticket = open_ticket(desk, complaint, team=desk["desk"])
    assert post(client_for(desk["agent"]), "take", ticket).status_code == 302
    response = post(client_for(desk["colleague"]), "take", ticket)
    assert response.status_code == 400
    assert "agent has already taken this ticket." in response.content.decode()


def test_managers_assign_and_change_the_sla_with_a_note(desk, complaint):
    ticket = open_ticket(desk, complaint)
    client = client_for(desk["manager"])
    html = page(client, ticket)
    assert ">Assign</button>" in html and ">Change SLA</button>" in html
    assert post(client, "assign", ticket, {"assign-to": desk["fixer"].pk, "assign-note": "售后处理"}).status_code == 302
    data = {"change_sla-first_response_minutes": "30", "change_sla-resolution_minutes": "600", "change_sla-note": ""}
    response = post(client, "change_sla", ticket, data)
    assert response.status_code == 400 and "Say why this ticket gets another SLA." in response.content.decode()
    data["change_sla-note"] = "VIP 客户"
    assert post(client, "change_sla", ticket, data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == desk["fixer"] and ticket.team == desk["after_sales"]
    assert (ticket.first_response_minutes, ticket.resolution_minutes) == (30, 600)


def test_staff_see_no_manager_forms_and_their_posts_are_forbidden(desk, complaint):
    ticket = open_ticket(desk, complaint)
    client = client_for(desk["agent"])
    assert ">Assign</button>" not in page(client, ticket)
    assert post(client, "assign", ticket, {"assign-to": desk["agent"].pk}).status_code == 403
    assert post(client, "change_sla", ticket, {}).status_code == 403


def test_the_page_takes_a_fixed_number_of_queries_however_many_steps(desk, complaint, django_assert_max_num_queries):
    few = open_ticket(desk, complaint, assignee=desk["agent"])
    many = open_ticket(desk, complaint, assignee=desk["agent"])
    for n in range(25):
        operations.add_step(many, by=desk["agent" if n % 2 else "colleague"], kind="work", content=f"步骤 {n}")
    operations.hand_off(many, to_team=desk["after_sales"], by=desk["agent"], note="转售后")
    client = client_for(desk["manager"])
    page(client, few)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        page(client, few)
    with django_assert_max_num_queries(len(small)):
        page(client, many)


def test_a_missing_ticket_is_404(desk):
    assert client_for(desk["agent"]).get(reverse("service:ticket", args=[999999])).status_code == 404


def test_opening_a_ticket_from_a_card(desk, complaint):
    client = client_for(desk["agent"])
    url = reverse("service:new", args=[desk["card"].pk])
    html = client.get(url).content.decode()
    for label in ("Subject", "Category", "Channel", "Priority", "Team", "Assignee"):
        assert f">{label}</label>" in html, label
    data = {"subject": "发票抬头错了", "need": "要重开发票", "category": complaint.pk, "channel": "wechat",
            "priority": "normal", "team": desk["desk"].pk, "assignee": ""}  # fmt: skip
    response = client.post(url, data)
    ticket = Ticket.objects.get(subject="发票抬头错了")
    assert response.status_code == 302 and response["Location"] == reverse("service:ticket", args=[ticket.pk])
    assert ticket.customer == desk["card"] and ticket.channel == "wechat" and ticket.team == desk["desk"]
    assert ticket.created_by == desk["agent"] and ticket.status == Status.NEW


def test_a_new_ticket_without_a_subject_or_on_a_void_card_is_refused_on_the_form(desk, complaint):
    client = client_for(desk["agent"])
    url = reverse("service:new", args=[desk["card"].pk])
    data = {"subject": " ", "category": complaint.pk, "channel": "phone", "priority": "normal"}
    response = client.post(url, data)
    assert response.status_code == 400 and 'id="id_subject_error"' in response.content.decode()
    desk["card"].status = "void"
    desk["card"].save()
    response = client.post(url, {**data, "subject": "漏水"})
    assert (
        response.status_code == 400 and "open the ticket on the customer&#x27;s valid card" in response.content.decode()
    )
    assert not Ticket.objects.exists()


def test_retired_categories_are_not_offered(desk, complaint):
    complaint.active = False
    complaint.save()
    html = client_for(desk["agent"]).get(reverse("service:new", args=[desk["card"].pk])).content.decode()
    assert f'<option value="{complaint.pk}">{complaint.label}</option>' not in html
    assert "Repair</option>" in html


def test_handing_to_the_team_that_has_it_is_refused_next_to_the_team(desk, complaint):
    ticket = open_ticket(desk, complaint, team=desk["desk"], assignee=desk["agent"])
    data = {"hand_off-team": desk["desk"].pk, "hand_off-note": "转"}
    response = post(client_for(desk["agent"]), "hand_off", ticket, data)
    assert response.status_code == 400
    assert 'id="id_hand_off-team_error"' in response.content.decode()
