"""Importing historical tickets with their steps: template, preview with line/column problems, all or nothing."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.models import AuditEntry
from service import operations
from service.models import Status, Step, Ticket
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent.parent / "fixtures"


def upload(client, name: str):
    data = (FIXTURES / name).read_bytes()
    return client.post(reverse("service:import"), {"file": SimpleUploadedFile(name, data)})


def confirm(client, preview):
    return client.post(reverse("service:import_confirm"), {"upload": preview.context["upload"].upload_id})


def local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


@pytest.fixture
def cards(desk):
    return desk["card"], CustomerFactory(customer_no="C000202")


@pytest.mark.parametrize("name", ["tickets_history.xlsx", "tickets_history.csv"])
def test_a_valid_file_is_previewed_then_imported_with_its_steps(admin_client, admin_user, cards, desk, name):
    card, other = cards

    preview = upload(admin_client, name)

    assert preview.status_code == 200
    report = preview.context["report"]
    assert report.ok and (report.tickets, report.steps) == (2, 3)
    assert not Ticket.objects.exists()  # nothing before confirming

    confirm(admin_client, preview)

    kettle = Ticket.objects.get(number="S2025-000101")
    assert kettle.customer == card and kettle.status == Status.CLOSED and kettle.priority == "high"
    assert kettle.team == desk["after_sales"] and kettle.assignee == desk["fixer"]
    assert kettle.created_at == local(2025, 3, 3, 10, 0)
    assert kettle.first_response_at == local(2025, 3, 3, 11, 30)  # the first reply
    # High: 2 working hours and 2 working days (18 h) from Monday 10:00, counted in working time.
    assert kettle.first_response_due == local(2025, 3, 3, 12, 0)
    assert kettle.resolution_due == local(2025, 3, 5, 10, 0)
    assert not kettle.first_response_breached and not kettle.resolution_breached
    steps = list(kettle.steps.order_by("happened_at", "pk"))
    assert [s.kind for s in steps] == ["status", "reply", "work", "note"]
    assert steps[1].by == desk["fixer"] and steps[1].minutes_spent == 15 and steps[1].to_customer
    assert steps[2].by is None and steps[2].content == "上门更换热水壶 (王师傅)" and steps[2].result == "已更换"
    assert steps[3].by == desk["agent"]
    timer = Ticket.objects.get(customer=other)
    assert timer.status == Status.NEW and timer.category.key == "enquiry"
    assert timer.number == "S2025-000102"  # the year's counter moved past the kept number
    entry = AuditEntry.objects.get(action="ticket.import", customer_id=card.pk)
    assert entry.data["file"] == name and entry.data["line"] == 2


def test_an_imported_ticket_that_missed_its_targets_is_marked_late(admin_client, cards, tmp_path):
    content = (
        "customer_no,category,priority,subject,opened_at,first_response_at,resolved_at\n"
        "C000201,complaint,urgent,Late one,2025-03-07 17:00,2025-03-10 10:30,2025-03-12 09:00\n"
    )
    preview = admin_client.post(reverse("service:import"), {"file": SimpleUploadedFile("late.csv", content.encode())})
    confirm(admin_client, preview)

    ticket = Ticket.objects.get(subject="Late one")
    # Urgent: 1 working hour from Friday 17:00 → Friday 18:00; resolution 9 h → Monday 17:00.
    assert ticket.first_response_due == local(2025, 3, 7, 18, 0)
    assert ticket.resolution_due == local(2025, 3, 10, 17, 0)
    assert ticket.first_response_breached and ticket.resolution_breached
    assert ticket.status == Status.RESOLVED


def test_every_problem_is_named_by_line_and_column_and_nothing_is_written(admin_client, cards):
    preview = upload(admin_client, "tickets_bad.csv")

    problems = [(p.line, p.column, p.message) for p in preview.context["report"].problems]
    assert (2, "customer_no", "There is no card C000999.") in problems
    assert (
        3,
        "opened_at",
        "“2025-02-30” is not a date; use YYYY-MM-DD, for example 2024-03-05, optionally with a time (14:30).",
    ) in problems
    assert (
        4,
        "status",
        "“done” is not a status; write new, assigned, in_progress, waiting, resolved, closed or cancelled.",
    ) in problems
    assert (5, "number", "Ticket S2025-000203 is also on line 4.") in problems
    assert preview.context["upload"] is None  # cannot be confirmed
    assert "Line" in preview.content.decode() or "line" in preview.content.decode()
    assert not Ticket.objects.exists()


def test_a_number_that_already_exists_is_refused(admin_client, cards, desk, complaint):
    existing = operations.open_ticket(
        desk["card"], by=desk["agent"], subject="Old", category=complaint, channel="phone", priority="low"
    )
    content = f"number,customer_no,category,subject,opened_at\n{existing.number},C000201,complaint,Again,2025-01-02\n"

    preview = admin_client.post(reverse("service:import"), {"file": SimpleUploadedFile("dup.csv", content.encode())})

    assert [(p.line, p.column, p.message) for p in preview.context["report"].problems] == [
        (2, "number", f"Ticket {existing.number} already exists.")
    ]


def test_a_step_without_its_ticket_and_an_open_ticket_with_a_resolution_are_refused(admin_client, cards):
    content = (
        "number,customer_no,category,subject,opened_at,status,resolved_at,kind,content,when\n"
        "S1,C000201,complaint,Open,2025-01-02,in_progress,2025-01-03,,,\n"
        "S9,,,,,,,note,Lost step,2025-01-03\n"
    )

    preview = admin_client.post(reverse("service:import"), {"file": SimpleUploadedFile("x.csv", content.encode())})

    assert [(p.line, p.column) for p in preview.context["report"].problems] == [(2, "status"), (3, "number")]


def test_confirming_checks_again_and_writes_nothing_when_the_card_went_away(admin_client, cards):
    preview = upload(admin_client, "tickets_history.csv")
    cards[1].status = "void"
    cards[1].save(update_fields=["status"])

    page = confirm(admin_client, preview)

    assert page.status_code == 200
    assert not Ticket.objects.exists() and not Step.objects.exists()


def test_the_templates_download_with_every_column(admin_client):
    xlsx = admin_client.get(reverse("service:import_template", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content if xlsx.streaming else [xlsx.content]))).active
    assert [c.value for c in sheet[1]][:3] == ["number", "customer_no", "channel"]
    csv = admin_client.get(reverse("service:import_template", args=["csv"])).content.decode("utf-8-sig")
    assert csv.splitlines()[0].endswith("kind,content,result,by,when,minutes")


def test_only_admins_import(manager_client):
    assert manager_client.get(reverse("service:import")).status_code == 403
