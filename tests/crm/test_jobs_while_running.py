"""Jobs tell the truth while they run, and no request waits for one (issue 16, "jobs that lie").

An import writes every row in one transaction. Its progress and heartbeat used to be written
inside that transaction: invisible (0%) from outside until the commit, with the job row locked
all along, so the dead-job sweep of a status poll waited for the whole import (31.5 s, past
gunicorn's 30 s). And without a broker the job ran inside the request that started it.

These tests use real connections (a transaction per thread), so they are transactional; the
import ones need PostgreSQL, where a write transaction locks rows, not the whole database.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm import jobs
from crm.models import Job
from customers import exports, imports
from customers.models import Customer
from tests.factories import CustomerFactory
from tests.fixtures.customer_files import good_rows, xlsx_bytes

WAIT = 30  # seconds: the longest any step may take before the test fails instead of hanging


class InThread:
    """Run ``call`` in a thread of its own (its own database connection, closed at the end)."""

    def __init__(self, call):
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call):
        try:
            self.result = call()
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            connections.close_all()

    def finished_within(self, seconds: float):
        self.thread.join(seconds)
        assert not self.thread.is_alive(), f"still running after {seconds} s"
        if self.error is not None:
            raise self.error
        return self.result


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _wait_for(condition, seconds: float = WAIT):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {seconds} s")


def _no_job_threads_left() -> bool:
    """No job thread and no outbox dispatch thread (started by the commit of a job's writes) is
    alive: one still running when the test ends holds locks that the test database's flush waits
    on, or deadlocks with (which failed CI once, and the next test then found two jobs)."""
    return not [t for t in threading.enumerate() if (t.name.startswith("job-") or t.name == "outbox") and t.is_alive()]


@pytest.fixture
def background_jobs(settings):
    """No broker and no JOBS_RUN_INLINE: jobs run in a thread of the web process, as in production."""
    settings.JOBS_RUN_INLINE = False
    settings.CELERY_BROKER_URL = ""
    yield
    _wait_for(_no_job_threads_left)


@pytest.fixture
def quick_heartbeats(monkeypatch):
    """A heartbeat every 0.2 s and a job dead after 2 s without one, so the tests take seconds."""
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", timedelta(seconds=0.2))
    monkeypatch.setattr(jobs, "STALE_AFTER", timedelta(seconds=2))


@pytest.fixture
def gate():
    """A runner holds at ``reached`` until the test opens ``release`` (always opened at the end)."""
    reached, release = threading.Event(), threading.Event()
    yield reached, release
    release.set()


# --- Without a broker: a thread the request does not wait for -----------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_request_starting_a_job_without_a_broker_returns_before_the_job_finishes(
    admin_user, background_jobs, gate, settings, monkeypatch
):
    reached, release = gate
    settings.CUSTOMER_EXPORT_DIRECT_MAX_ROWS = 0
    CustomerFactory.create_batch(3, city="杭州")

    def slow_export(job, progress):
        reached.set()
        release.wait(WAIT)
        return exports.run_export_job(job, progress)

    monkeypatch.setitem(jobs._KINDS, Job.Kind.CUSTOMERS_CSV, jobs.JobKind(slow_export, "customers.export_customers"))
    client = _logged_in(admin_user)

    request = InThread(lambda: client.get(reverse("customers:export"), {"format": "csv", "city": "杭州"}))
    response = request.finished_within(10)  # before: the job ran inside this request, which hung here

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:status", args=[job.pk])
    assert reached.wait(WAIT)
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING and not job.file
    release.set()
    _wait_for(lambda: Job.objects.get().state == Job.State.DONE)
    job.refresh_from_db()
    assert job.result["rows"] == 3 and job.file
    _wait_for(_no_job_threads_left)  # the job's thread and its heartbeat thread end with the job


@pytest.mark.django_db(transaction=True)
def test_a_job_thread_that_fails_marks_its_job_failed(admin_user, background_jobs, monkeypatch):
    def broken(job, progress):
        raise OSError("No space left on device")

    monkeypatch.setitem(jobs._KINDS, Job.Kind.CUSTOMERS_CSV, jobs.JobKind(broken, "customers.export_customers"))

    job = jobs.start(Job.Kind.CUSTOMERS_CSV, user=admin_user, params={})  # autocommit: starts at once

    _wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.FAILED)
    job.refresh_from_db()
    assert "No space left on device" in job.error and job.attempts == 1


# --- An import's progress while its transaction is open -----------------------------------------


@pytest.fixture
def paused_import(admin_user, background_jobs, quick_heartbeats, gate, settings, monkeypatch):
    """An uploaded, checked file whose confirmed import job stops inside its transaction, after
    writing its rows and reporting progress, until the test releases it."""
    reached, release = gate
    settings.IMPORT_DIRECT_MAX_BYTES = 0  # every upload runs as a job

    def pausing(job, progress):
        def report(done, total=None):
            progress(done, total)
            if job.params.get("stage") == "confirm" and not reached.is_set():
                reached.set()
                release.wait(WAIT)

        return imports.run_import_job(job, report)

    monkeypatch.setitem(jobs._KINDS, Job.Kind.CUSTOMERS_IMPORT, jobs.JobKind(pausing, "customers.import_customers"))
    client = _logged_in(admin_user)
    settings.JOBS_RUN_INLINE = True  # the check (preview) runs in the request here
    uploaded = client.post(
        reverse("customers:import"), {"file": SimpleUploadedFile("big.xlsx", xlsx_bytes(good_rows(3)))}
    )
    upload_id = uploaded["Location"].split("=")[-1]
    settings.JOBS_RUN_INLINE = False
    confirmed = InThread(lambda: client.post(reverse("customers:import_confirm"), {"upload": upload_id}))
    assert confirmed.finished_within(10).status_code == 302
    assert reached.wait(WAIT), "the import never reported progress"
    paused_at = timezone.now()
    job = Job.objects.get(kind=Job.Kind.CUSTOMERS_IMPORT, params__stage="confirm")
    return client, job, paused_at, release


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_while_an_import_runs_another_connection_sees_its_progress_and_a_fresh_heartbeat(paused_import):
    client, job, paused_at, release = paused_import

    # This test's connection is not the job's: the import's transaction is still open...
    assert Customer.objects.count() == 0
    # ...yet its progress and a heartbeat written since the pause are visible (before: 0, frozen).
    seen = _wait_for(lambda: Job.objects.filter(pk=job.pk, progress__gt=0, heartbeat_at__gt=paused_at).first(), 5)
    assert (seen.state, seen.progress, seen.total) == (Job.State.RUNNING, 3, 3)
    assert timezone.now() - seen.heartbeat_at < timedelta(seconds=2)

    release.set()
    _wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.DONE)
    assert Customer.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_while_an_import_runs_its_job_row_is_not_locked_and_a_status_poll_answers_at_once(paused_import):
    client, job, _paused_at, release = paused_import

    def row_is_free() -> bool:
        with transaction.atomic():
            return Job.objects.select_for_update(skip_locked=True).filter(pk=job.pk).exists()

    assert _wait_for(row_is_free, 2)  # before: locked by the import's transaction until it committed
    time.sleep(2.5)  # past STALE_AFTER: before, the sweep of the poll below waited on the row's lock
    poll = InThread(lambda: client.get(reverse("jobs:status", args=[job.pk]), headers={"HX-Request": "true"}))
    response = poll.finished_within(5)

    assert response.status_code == 200
    job.refresh_from_db()
    assert job.state == Job.State.RUNNING  # its heartbeat is fresh: not taken for dead
    assert "3 of 3" in response.content.decode()
    release.set()
    _wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.DONE)


# --- The dead-job sweep never waits -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_status_poll_skips_a_stale_job_whose_row_someone_holds_and_sweeps_it_once_free(admin_user, gate):
    reached, release = gate
    stale = timezone.now() - jobs.STALE_AFTER - timedelta(seconds=30)
    job = Job.objects.create(
        kind=Job.Kind.CUSTOMERS_CSV, created_by=admin_user, state=Job.State.RUNNING, heartbeat_at=stale
    )

    def hold_the_row():
        with transaction.atomic():
            Job.objects.select_for_update().get(pk=job.pk)
            reached.set()
            release.wait(WAIT)

    holder = InThread(hold_the_row)
    assert reached.wait(WAIT)
    client = _logged_in(admin_user)

    poll = InThread(lambda: client.get(reverse("jobs:status", args=[job.pk])))
    assert poll.finished_within(5).status_code == 200  # before: waited as long as the lock was held
    assert Job.objects.get(pk=job.pk).state == Job.State.RUNNING  # skipped, not waited for

    release.set()
    holder.finished_within(WAIT)
    assert jobs.mark_dead_jobs_failed([job]) == 1
    job.refresh_from_db()
    assert (job.state, job.error) == (Job.State.FAILED, jobs.WORKER_DIED)


@pytest.mark.django_db(transaction=True)
def test_the_sweep_fails_only_stale_live_jobs(admin_user):
    now = timezone.now()
    stale = now - jobs.STALE_AFTER - timedelta(seconds=1)

    def job(state, heartbeat):
        return Job.objects.create(
            kind=Job.Kind.CUSTOMERS_CSV, created_by=admin_user, state=state, heartbeat_at=heartbeat
        )

    dead, alive, done = job(Job.State.RUNNING, stale), job(Job.State.RUNNING, now), job(Job.State.DONE, stale)

    assert jobs.mark_dead_jobs_failed() == 1
    states = dict(Job.objects.values_list("pk", "state"))
    assert states == {dead.pk: Job.State.FAILED, alive.pk: Job.State.RUNNING, done.pk: Job.State.DONE}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_stops_and_closes_its_connection_when_the_job_ends(admin_user, quick_heartbeats, monkeypatch):
    def backends() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return cursor.fetchone()[0]

    def steady(job, progress):
        for done in range(1, 6):
            progress(done, 5)
            time.sleep(0.1)
        return {"rows": 5}

    monkeypatch.setitem(jobs._KINDS, Job.Kind.CUSTOMERS_CSV, jobs.JobKind(steady, "customers.export_customers"))
    job = Job.objects.create(kind=Job.Kind.CUSTOMERS_CSV, created_by=admin_user)
    before = backends()

    jobs.run(str(job.pk))

    job.refresh_from_db()
    assert (job.state, job.progress) == (Job.State.DONE, 5)
    assert _no_job_threads_left()
    assert backends() == before
