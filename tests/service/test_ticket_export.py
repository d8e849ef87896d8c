"""Exporting the tickets of a queue view to .xlsx and CSV (Admins)."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.models import AuditEntry, Job
from service.exports import TicketExport, filtered_tickets
from tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db
HOSTILE = '=HYPERLINK("http://evil.example","click")'


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def tickets(desk):
    card = CustomerFactory(customer_no="C000301", name="钱多多")
    return {
        "hostile": TicketFactory(customer=card, subject=HOSTILE, status="new", priority="high"),
        "done": TicketFactory(customer=card, subject="Fixed kettle", status="resolved", team=desk["after_sales"]),
    }


def test_the_csv_export_keeps_a_formula_as_text(admin_client, tickets):
    response = admin_client.get(reverse("service:export"), {"format": "csv", "view": "all"})

    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Number", "Customer number", "Customer"]
    subjects = {row[6] for row in rows[1:]}
    assert "'" + HOSTILE in subjects and "Fixed kettle" in subjects


def test_the_xlsx_export_keeps_a_formula_as_text_with_labels_in_words(admin_client, tickets):
    response = admin_client.get(reverse("service:export"), {"format": "xlsx", "view": "all"})

    sheet = load_workbook(io.BytesIO(body(response))).active
    rows = list(sheet.iter_rows(values_only=False))
    hostile = next(row for row in rows[1:] if row[0].value == tickets["hostile"].number)
    assert hostile[6].value == HOSTILE and hostile[6].data_type != "f"
    assert hostile[5].value == "High" and hostile[10].value == "New"
    done = next(row for row in rows[1:] if row[0].value == tickets["done"].number)
    assert done[8].value == "After-sales" and done[10].value == "Resolved"


def test_the_export_follows_the_queue_filters_and_is_audited(admin_client, admin_user, tickets):
    response = admin_client.get(
        reverse("service:export"), {"format": "csv", "view": "all", "status": "resolved", "machine_names": "1"}
    )

    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert rows[0][0] == "number" and [row[0] for row in rows[1:]] == [tickets["done"].number]
    entry = AuditEntry.objects.get(action="ticket.export")
    assert entry.actor == admin_user
    assert entry.changes["rows"] == [None, 1] and entry.changes["filters"] == [
        None,
        {"view": "all", "status": "resolved"},
    ]


def test_an_export_holds_what_the_queue_page_lists(desk, tickets):
    mine = TicketFactory(assignee=desk["agent"], status="assigned")
    assert list(filtered_tickets({"view": "mine"}, desk["agent"])) == [mine]
    assert list(filtered_tickets({}, desk["agent"])) == [mine]  # the page's default view: mine
    assert set(filtered_tickets({"view": "all", "customer": str(tickets["done"].customer_id)}, desk["agent"])) == set(
        tickets.values()
    )
    after_sales = {"view": "all", "team": str(desk["after_sales"].pk)}
    assert list(filtered_tickets(after_sales, desk["manager"])) == [tickets["done"]]


def test_a_large_export_runs_as_a_job(admin_client, tickets, settings, django_capture_on_commit_callbacks):
    settings.TICKET_EXPORT_DIRECT_MAX_ROWS = 1

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.get(reverse("service:export"), {"format": "xlsx", "view": "all"})

    job = Job.objects.get(kind="tickets_xlsx")
    assert response.status_code == 302 and str(job.pk) in response["Location"]
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.result["rows"] == 2
    sheet = load_workbook(io.BytesIO(job.file.read())).active
    assert sheet.max_row == 3


def test_a_job_selects_the_same_tickets_again(desk, tickets, admin_user):
    export = TicketExport.from_params({"filters": {"view": "all", "status": "new", "evil": "x"}}, admin_user)
    assert list(export.rows()) == [tickets["hostile"]] and export.filters == {"view": "all", "status": "new"}


def test_only_admins_export(manager_client, staff_client):
    assert manager_client.get(reverse("service:export")).status_code == 403
    assert staff_client.get(reverse("service:export")).status_code == 403


def test_the_jobs_page_of_a_ticket_export_offers_its_file(
    admin_client, tickets, settings, django_capture_on_commit_callbacks
):
    settings.TICKET_EXPORT_DIRECT_MAX_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.get(reverse("service:export"), {"format": "csv", "view": "all"})

    page = admin_client.get(response["Location"])

    assert page.status_code == 200 and "2 tickets exported." in page.content.decode()


def test_the_queue_page_offers_the_export_of_what_it_lists_to_admins_only(admin_client, staff_client, tickets):
    page = admin_client.get(reverse("service:queue"), {"view": "all", "status": "new"}).content.decode()
    form = page[page.index('action="/service/export/"') :].split("</form>")[0]
    assert 'name="view" value="all"' in form and 'name="status" value="new"' in form and 'value="xlsx"' in form
    assert "/service/export/" not in staff_client.get(reverse("service:queue")).content.decode()
