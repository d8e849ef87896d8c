"""Large uploads are checked and imported by a background job; the import page follows it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm import jobs
from crm.models import AuditEntry, Job
from customers import imports
from customers.models import Customer
from tests.fixtures.customer_files import good_rows, xlsx_bytes

pytestmark = pytest.mark.django_db

IMPORT = reverse("customers:import")
CONFIRM = reverse("customers:import_confirm")


@pytest.fixture
def import_jobs(settings, monkeypatch):
    """Every upload counts as large, and the customers_import kind is registered (customers/apps.py)."""
    settings.IMPORT_DIRECT_MAX_BYTES = 0
    kind = jobs.JobKind(imports.run_import_job, "customers.import_customers")
    monkeypatch.setitem(jobs._KINDS, Job.Kind.CUSTOMERS_IMPORT, kind)


def upload_and_run(client, data, name, capture):
    with capture(execute=True):
        response = client.post(IMPORT, {"file": SimpleUploadedFile(name, data)})
    return response


def test_a_large_upload_is_checked_by_a_job_and_the_page_shows_its_report(
    admin_client, import_jobs, django_capture_on_commit_callbacks
):
    response = upload_and_run(admin_client, xlsx_bytes(good_rows(3)), "big.xlsx", django_capture_on_commit_callbacks)

    job = Job.objects.get(kind=Job.Kind.CUSTOMERS_IMPORT)
    assert response.status_code == 302
    assert response["Location"] == f"{IMPORT}?upload={job.params['upload']}"
    assert (job.state, job.params["stage"], job.result["ok"]) == (Job.State.DONE, "preview", True)
    page = admin_client.get(response["Location"])
    assert page.context["report"].created == 3
    assert "Confirm import" in page.content.decode()
    assert Customer.objects.count() == 0


def test_the_confirmed_import_runs_as_a_job_and_reports_what_it_wrote(
    admin_client, admin_user, import_jobs, django_capture_on_commit_callbacks
):
    response = upload_and_run(admin_client, xlsx_bytes(good_rows(3)), "big.xlsx", django_capture_on_commit_callbacks)
    upload_id = response["Location"].split("=")[-1]

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = admin_client.post(CONFIRM, {"upload": upload_id})

    assert confirmed["Location"] == f"{IMPORT}?upload={upload_id}"
    assert Customer.objects.count() == 3
    assert AuditEntry.objects.get(action="customer.import").actor == admin_user
    page = admin_client.get(confirmed["Location"]).content.decode()
    assert "Imported big.xlsx: 3 new and 0 updated customers." in page
    # The file is gone: it cannot be imported a second time.
    again = admin_client.post(CONFIRM, {"upload": upload_id})
    assert again["Location"] == IMPORT
    assert Customer.objects.count() == 3


def test_a_large_bad_file_shows_its_problems_after_the_check(
    admin_client, import_jobs, django_capture_on_commit_callbacks
):
    rows = good_rows(3)
    rows[2]["phone"] = "12345"
    response = upload_and_run(admin_client, xlsx_bytes(rows), "bad.xlsx", django_capture_on_commit_callbacks)

    page = admin_client.get(response["Location"])
    assert [str(p) for p in page.context["report"].problems] == [
        "Line 4, phone: “12345” is not a valid phone number. Chinese mobiles have 11 digits starting with 1; "
        "for a number outside China, start with + and the country code."
    ]
    assert "Confirm import" not in page.content.decode()


def test_while_the_job_runs_the_page_shows_progress_and_htmx_polls_it(admin_client, import_jobs):
    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("big.xlsx", xlsx_bytes(good_rows(2)))})
    job = Job.objects.get()
    assert job.state == Job.State.QUEUED  # its on_commit never ran inside the test's transaction

    page = admin_client.get(response["Location"])
    partial = admin_client.get(response["Location"], headers={"HX-Request": "true"})

    assert "Checking the file" in page.content.decode()
    assert 'hx-trigger="every 1s"' in page.content.decode()
    assert partial.content.decode().lstrip().startswith('<div id="import-progress"')
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, error="boom")
    refreshed = admin_client.get(response["Location"], headers={"HX-Request": "true"})
    assert refreshed.headers["HX-Refresh"] == "true"
    failed = admin_client.get(response["Location"]).content.decode()
    assert "The job failed; nothing was imported." in failed


def test_another_user_cannot_follow_someone_elses_upload(admin_client, import_jobs, client):
    from tests.factories import UserFactory

    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("big.xlsx", xlsx_bytes(good_rows(2)))})
    client.force_login(UserFactory(username="admin_two", role="Admin"))

    other = client.get(response["Location"])

    assert other.status_code == 302
    assert other["Location"] == IMPORT


def test_a_job_for_an_expired_upload_fails_with_a_clear_error(admin_user, import_jobs):
    job = Job.objects.create(
        kind=Job.Kind.CUSTOMERS_IMPORT, created_by=admin_user, params={"upload": "0" * 32, "stage": "confirm"}
    )

    jobs.run(str(job.pk))

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "expired or was already imported" in job.error
    assert Customer.objects.count() == 0


def test_without_the_job_kind_registered_a_large_upload_is_checked_in_the_request(admin_client, settings, monkeypatch):
    settings.IMPORT_DIRECT_MAX_BYTES = 0
    monkeypatch.delitem(jobs._KINDS, Job.Kind.CUSTOMERS_IMPORT, raising=False)

    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("big.xlsx", xlsx_bytes(good_rows(2)))})

    assert response.status_code == 200
    assert response.context["report"].created == 2
    assert not Job.objects.exists()


def test_a_large_upload_with_problems_gets_its_marked_copy_built_by_the_job(
    admin_client, import_jobs, django_capture_on_commit_callbacks
):
    import io

    from django.core.files.storage import default_storage
    from openpyxl import load_workbook

    from tests.fixtures.customer_files import row

    data = xlsx_bytes([row(1), row(2, points="-1")])
    response = upload_and_run(admin_client, data, "big.xlsx", django_capture_on_commit_callbacks)
    upload_id = response["Location"].split("=")[-1]

    assert default_storage.exists(f"imports/{upload_id}/marked.xlsx")  # built in the job, not the request
    page = admin_client.get(response["Location"])
    assert page.context["upload"] is None
    marked = admin_client.get(page.context["marked_url"])
    workbook = load_workbook(io.BytesIO(b"".join(marked.streaming_content)))
    assert workbook["big"]["S3"].comment is not None  # points: the 19th column, line 3
