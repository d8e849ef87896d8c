"""The register's pages: the list and its filters, registering (also from the card), the request's
page and its actions, and the access export generated as a job and downloaded once."""

import datetime as dt
import io
import json

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEntry, Job
from privacy import requests
from privacy.models import DataRequest
from tests.factories import CustomerFactory

from .history import long_history

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def test_the_list_shows_open_requests_and_highlights_the_overdue(admin_client, admin_user):
    card = CustomerFactory(customer_no="P000001")
    late = requests.register(card, "access", TODAY() - dt.timedelta(days=45), "", by=admin_user)
    requests.register(card, "correction", TODAY(), "", by=admin_user)
    done = requests.register(CustomerFactory(customer_no="P000002"), "access", TODAY(), "", by=admin_user)
    requests.check_identity(done, by=admin_user)
    requests.complete(done, by=admin_user, note="")
    page = admin_client.get(reverse("privacy:list")).content.decode()
    assert page.count('href="/privacy/') >= 2 and "P000001" in page and "P000002" not in page
    assert page.count("Overdue</strong>") == 1
    assert f"{late.due_on:%Y-%m-%d} · Overdue" in page
    overdue = admin_client.get(reverse("privacy:list"), {"show": "overdue"}).content.decode()
    assert overdue.count('<tr class="overdue">') == 1
    answered = admin_client.get(reverse("privacy:list"), {"show": "done"}).content.decode()
    assert "P000002" in answered and "P000001" not in answered


def test_registering_a_request_from_the_form(admin_client):
    card = CustomerFactory(customer_no="P000010")
    response = admin_client.post(
        reverse("privacy:create"),
        {"customer_no": "p000010", "kind": "erasure", "received_on": TODAY().isoformat(), "notes": "来信"},
    )
    made = DataRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("privacy:detail", args=[made.pk])
    assert (made.customer, made.kind, made.due_on) == (card, "erasure", TODAY() + dt.timedelta(days=30))


def test_bad_input_is_explained_next_to_the_field(admin_client):
    response = admin_client.post(
        reverse("privacy:create"), {"customer_no": "NOPE-9", "kind": "access", "received_on": "2026-02-30"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_customer_no_error">No card has the customer number NOPE-9.' in page
    assert 'id="id_received_on_error">' in page
    assert not DataRequest.objects.exists()


def test_the_card_offers_registering_a_request_to_admins_only(admin_client, manager_client):
    card = CustomerFactory()
    link = reverse("privacy:register", args=[card.pk])
    assert link in admin_client.get(reverse("customers:card", args=[card.pk])).content.decode()
    assert link not in manager_client.get(reverse("customers:card", args=[card.pk])).content.decode()
    response = admin_client.post(link, {"kind": "correction", "received_on": TODAY().isoformat(), "notes": ""})
    assert response.status_code == 302 and DataRequest.objects.get().customer == card


def test_refusing_without_a_reason_shows_the_message_on_the_request_page(admin_client, admin_user):
    made = requests.register(CustomerFactory(), "access", TODAY(), "", by=admin_user)
    response = admin_client.post(reverse("privacy:refuse", args=[made.pk]), {"note": ""})
    assert 'id="id_note_error">Write why the request is refused.' in response.content.decode()
    made.refresh_from_db()
    assert made.state == DataRequest.State.OPEN


def test_a_correction_request_links_to_the_cards_edit_page(admin_client, admin_user):
    card = CustomerFactory()
    made = requests.register(card, "correction", TODAY(), "", by=admin_user)
    page = admin_client.get(reverse("privacy:detail", args=[made.pk])).content.decode()
    assert reverse("customers:edit", args=[card.pk]) in page


def test_an_export_waits_for_the_identity_check(admin_client, admin_user):
    made = requests.register(CustomerFactory(), "access", TODAY(), "", by=admin_user)
    response = admin_client.post(reverse("privacy:export", args=[made.pk]), {"format": "json"}, follow=True)
    assert "Check the requester&#x27;s identity first." in response.content.decode()
    assert not Job.objects.exists()


@pytest.fixture
def ready_request(staff_user, manager_user, admin_user):
    card = long_history(
        staff=staff_user, manager=manager_user, admin=admin_user, name="欧阳娜娜", phone="+8613911112222"
    )
    made = DataRequest.objects.get(customer=card)
    requests.check_identity(made, by=admin_user)
    return made


def _generate(client, made, fmt, capture) -> Job:
    with capture(execute=True):
        response = client.post(reverse("privacy:export", args=[made.pk]), {"format": fmt})
    assert response.status_code == 302
    return Job.objects.filter(kind=Job.Kind.PRIVACY_ACCESS).latest("created_at")


def test_the_access_export_is_generated_audited_and_downloaded_once(
    admin_client, admin_user, ready_request, django_capture_on_commit_callbacks
):
    job = _generate(admin_client, ready_request, "json", django_capture_on_commit_callbacks)
    assert job.state == Job.State.DONE and job.file
    stored = job.file.name
    generated = AuditEntry.objects.get(customer_id=ready_request.customer_id, action="privacy.access_export")
    assert generated.actor == admin_user and generated.data["format"] == "json"
    assert (
        reverse("privacy:download", args=[ready_request.pk, job.pk])
        in admin_client.get(reverse("privacy:detail", args=[ready_request.pk])).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):  # the file leaves the disk once the download commits
        response = admin_client.post(reverse("privacy:download", args=[ready_request.pk, job.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["customer_no"] == ready_request.customer_no and len(data["sections"]["purchases"]) == 3
    assert (
        AuditEntry.objects.filter(customer_id=ready_request.customer_id, action="privacy.access_download").count() == 1
    )
    assert not default_storage.exists(stored)

    again = admin_client.post(reverse("privacy:download", args=[ready_request.pk, job.pk]), follow=True)
    assert again.status_code == 200
    assert "it can be downloaded only once" in again.content.decode()
    assert admin_client.get(reverse("jobs:download", args=[job.pk])).status_code == 404


def test_the_excel_export_reads_back(admin_client, ready_request, django_capture_on_commit_callbacks):
    job = _generate(admin_client, ready_request, "xlsx", django_capture_on_commit_callbacks)
    response = admin_client.post(reverse("privacy:download", args=[ready_request.pk, job.pk]))
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    purchases = list(book[book.sheetnames[1]].iter_rows(values_only=True))
    assert len(purchases) == 1 + 3


def test_only_the_admin_who_generated_it_downloads_it(
    admin_client, ready_request, django_capture_on_commit_callbacks, client
):
    from tests.factories import UserFactory

    job = _generate(admin_client, ready_request, "json", django_capture_on_commit_callbacks)
    client.force_login(UserFactory(username="admin_qian", role="Admin"))
    response = client.post(reverse("privacy:download", args=[ready_request.pk, job.pk]), follow=True)
    assert "Only the Admin who generated this export may download it." in response.content.decode()
    job.refresh_from_db()
    assert job.file


def test_the_generic_job_page_offers_no_second_way_to_download(
    admin_client, ready_request, django_capture_on_commit_callbacks
):
    job = _generate(admin_client, ready_request, "json", django_capture_on_commit_callbacks)
    page = admin_client.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert reverse("jobs:download", args=[job.pk]) not in page
    assert admin_client.get(reverse("jobs:download", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.file  # still there for its one download
