"""Faults lose nothing (issue 7 §6).

- A database connection lost in the middle of a closure (terminated from a second connection
  while the closure's transaction is open) leaves the card active, with no closure and no audit
  entry, and the user gets an error page.
- A worker that dies in the middle of an export leaves its job failed and retryable; a runner
  that raises fails the job with the error, and a retry succeeds once the cause is gone.
"""

import datetime as dt

import psycopg
import pytest
from django.db import DatabaseError, InterfaceError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics import exports
from closures import operations
from closures.models import Closure
from closures.rules import ClosureChoice
from crm import audit, jobs
from crm.models import AuditEntry, Job
from customers.models import Customer
from tests.factories import ClosureFactory, ClosureReasonFactory, CustomerFactory, UserFactory

# --- A connection lost in the middle of a closure (PostgreSQL) ---------------------------------------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")


def _terminate_own_backend() -> int:
    """Kill the backend serving Django's connection, from a second connection, as a DBA or a crash would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        killed = other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    assert killed, "the backend was not terminated"
    return pid


@pytest.fixture
def kill_connection_at_audit_write(monkeypatch):
    """Call it to arm the fault: the next crm.audit.record writes its entry, then the backend is terminated,
    so the closure row, the new status and the entry are written but not committed when the connection goes.
    Returns the list of terminated backend ids."""
    killed = []
    original = audit.record

    def record_then_die(*args, **kwargs):
        entry = original(*args, **kwargs)
        killed.append(_terminate_own_backend())
        return entry

    def arm():
        monkeypatch.setattr(audit, "record", record_then_die)
        return killed

    yield arm
    monkeypatch.undo()
    connection.close()  # the next test gets a fresh connection


def _assert_nothing_written(customer_pk: int) -> None:
    connection.close()  # a fresh connection, so we read only what was committed
    customer = Customer.objects.get(pk=customer_pk)
    assert customer.status == Customer.Status.ACTIVE
    assert not Closure.objects.filter(customer_id=customer_pk).exists()
    assert not AuditEntry.objects.filter(customer_id=customer_pk, action__startswith="closure.").exists()


@pytest.fixture
def closing_world(transactional_db):
    """Transactional tests start from an empty database: a card, a reason and a Manager of our own."""
    return {
        "customer": CustomerFactory(),
        "reason": ClosureReasonFactory(for_close=True),
        "manager": UserFactory(username="manager_fault", role="Manager"),
    }


@pytest.mark.postgres
@postgres_only
def test_a_connection_lost_during_a_closure_writes_nothing(closing_world, kill_connection_at_audit_write):
    customer, manager = closing_world["customer"], closing_world["manager"]
    killed = kill_connection_at_audit_write()

    with pytest.raises((DatabaseError, InterfaceError)):
        operations.close_customer(customer, ClosureChoice("close", closing_world["reason"]), by=manager)

    assert killed, "the fault was never injected"
    _assert_nothing_written(customer.pk)


@pytest.mark.postgres
@postgres_only
def test_a_connection_lost_during_confirm_shows_an_error_page_and_writes_nothing(
    closing_world, kill_connection_at_audit_write
):
    customer, manager = closing_world["customer"], closing_world["manager"]
    browser = Client(raise_request_exception=False)
    browser.force_login(manager)
    start = reverse("closures:start", kwargs={"pk": customer.pk, "action": "close"})
    page = browser.post(start, {"reason": closing_world["reason"].pk, "notes": "客户来电要求销卡"})
    assert page.status_code == 200
    token = page.context["form"]["token"].value()
    killed = kill_connection_at_audit_write()

    response = browser.post(
        reverse("closures:confirm", kwargs={"pk": customer.pk, "action": "close"}), {"token": token}
    )

    assert killed, "the fault was never injected"
    assert response.status_code == 500
    assert b"Traceback" not in response.content and b"pg_terminate_backend" not in response.content
    _assert_nothing_written(customer.pk)


# --- A worker that dies in the middle of an export ----------------------------------------------------


@pytest.fixture
def export_job(admin_user):
    """A closures CSV export of today's default filters, as the export view would start it."""
    ClosureFactory.create_batch(3)
    return Job.objects.create(
        kind=Job.Kind.CLOSURES_CSV,
        created_by=admin_user,
        params={"filters": {}, "today": timezone.localdate().isoformat(), "language": "en"},
    )


def _status(client, job):
    return client.get(reverse("jobs:status", kwargs={"pk": job.pk}))


def _retry_button(job) -> str:
    return f'action="{reverse("jobs:retry", kwargs={"pk": job.pk})}"'


def test_a_job_whose_worker_died_shows_failed_with_retry_and_retrying_finishes_it(
    admin_client, export_job, django_capture_on_commit_callbacks
):
    stale = timezone.now() - jobs.STALE_AFTER - dt.timedelta(seconds=30)
    Job.objects.filter(pk=export_job.pk).update(state=Job.State.RUNNING, heartbeat_at=stale, progress=1, total=3)

    page = _status(admin_client, export_job)

    export_job.refresh_from_db()
    assert export_job.state == Job.State.FAILED
    assert export_job.error and export_job.finished_at
    content = page.content.decode()
    assert "The job failed." in content and _retry_button(export_job) in content

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("jobs:retry", kwargs={"pk": export_job.pk}))

    assert response.status_code == 302
    export_job.refresh_from_db()
    assert export_job.state == Job.State.DONE, export_job.error
    assert export_job.file and export_job.result["rows"] == 3
    assert export_job.attempts == 1
    with export_job.file.open("rb") as handle:
        assert len(handle.read().decode("utf-8-sig").strip().splitlines()) == 1 + 3
    assert "Download" in _status(admin_client, export_job).content.decode()


def test_a_running_job_with_a_fresh_heartbeat_is_not_failed(admin_client, export_job):
    Job.objects.filter(pk=export_job.pk).update(state=Job.State.RUNNING, heartbeat_at=timezone.now())

    page = _status(admin_client, export_job)

    export_job.refresh_from_db()
    assert export_job.state == Job.State.RUNNING
    assert _retry_button(export_job) not in page.content.decode()


def test_a_runner_that_raises_fails_the_job_and_a_retry_succeeds_once_the_cause_is_gone(
    admin_client, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    ClosureFactory.create_batch(2)

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setitem(exports.WRITERS, "csv", disk_full)
    params = {"filters": {}, "today": timezone.localdate().isoformat(), "language": "en"}
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start(Job.Kind.CLOSURES_CSV, user=admin_user, params=params)

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "No space left on device" in job.error
    assert not job.file
    page = _status(admin_client, job).content.decode()
    assert "No space left on device" in page and _retry_button(job) in page

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("jobs:retry", kwargs={"pk": job.pk}))

    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    assert job.error == "" and job.result["rows"] == 2 and job.file
    assert job.attempts == 2


def test_only_a_failed_job_can_be_retried(admin_client, export_job, django_capture_on_commit_callbacks):
    Job.objects.filter(pk=export_job.pk).update(state=Job.State.RUNNING, heartbeat_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        admin_client.post(reverse("jobs:retry", kwargs={"pk": export_job.pk}))

    assert callbacks == []
    export_job.refresh_from_db()
    assert export_job.state == Job.State.RUNNING and export_job.attempts == 0
