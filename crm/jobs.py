"""Long work as jobs: a Job row records state and progress while a runner does the work.

Apps register a runner per job kind in their AppConfig.ready():

    jobs.register("closures_xlsx", run_closures_export, permission="closures.export_closures")

A runner is ``runner(job, progress) -> dict``: it calls ``progress(done, total)`` as it goes,
may save a file to ``job.file`` and returns a small JSON-able result (e.g. {"rows": 250000}).

Where a job runs (``start`` queues it once the caller's transaction commits):
- with CELERY_BROKER_URL: on a Celery worker (``make worker``);
- without a broker: in a background thread of the web process, so the request that started it
  returns at once (a 150,000-row import took 47 s, past gunicorn's 30 s timeout, when it ran
  inside the request). Such a thread dies with its process (a deploy, gunicorn recycling a
  worker, a crash); its heartbeat then stops and the dead-job sweep below marks the job failed
  after STALE_AFTER, so its page offers a retry. A broker is the way to survive restarts;
- with JOBS_RUN_INLINE (the tests): inside the caller, synchronously.

Progress and heartbeat are written outside the work's transaction. An import writes every
row in one transaction; progress written inside it stayed invisible (0%) until the commit, the
heartbeat froze, and the row lock it took made the dead-job sweep of a status poll wait for
the whole import (31.5 s). Now a heartbeat thread writes the latest progress with a heartbeat
every HEARTBEAT_EVERY on a connection of its own (Django gives each thread its own), in
autocommit; ``progress`` itself writes only while the runner has no transaction of its own
open, in autocommit too. So the job row is never locked for longer than one statement, and
the sweep, which skips locked rows anyway, never waits.

SQLite locks the whole database for a write transaction: there, an import's progress shows
once it commits (the heartbeat's write gives up instead of waiting), and the sweep leaves the
job alone while the database is locked.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from .forget import purge_expired_files
from .models import Job

logger = logging.getLogger(__name__)

# A running job whose heartbeat is older than this is taken as dead (its worker was killed).
STALE_AFTER = timedelta(minutes=2)
HEARTBEAT_EVERY = timedelta(seconds=1)
# How long the heartbeat's write may wait for a lock before it skips one beat.
HEARTBEAT_LOCK_WAIT = timedelta(seconds=2)
WORKER_DIED = "The worker stopped before the job finished."
_LIVE = (Job.State.RUNNING, Job.State.QUEUED)


@dataclass(frozen=True)
class JobKind:
    runner: Callable
    permission: str
    own_download: bool = False


_KINDS: dict[str, JobKind] = {}


def register(kind: str, runner: Callable, *, permission: str, own_download: bool = False) -> None:
    """``own_download``: the app serves the file itself (privacy: once, then deleted), never jobs:download."""
    _KINDS[kind] = JobKind(runner=runner, permission=permission, own_download=own_download)


def kind_permission(kind: str) -> str:
    return _KINDS[kind].permission


def downloads_elsewhere(kind: str) -> bool:
    return _KINDS[kind].own_download


def start(kind: str, *, user, params: dict) -> Job:
    """Create the job and queue it once the surrounding transaction commits."""
    if kind not in _KINDS:
        raise KeyError(f"no runner registered for job kind {kind!r}")
    purge_expired_files()  # a download that expired leaves no file behind
    job = Job.objects.create(kind=kind, created_by=user, params=params)
    transaction.on_commit(lambda: _enqueue(job))
    return job


def _enqueue(job: Job) -> None:
    from .tasks import run_job

    if settings.CELERY_BROKER_URL:
        run_job.delay(str(job.pk))
    elif getattr(settings, "JOBS_RUN_INLINE", False):
        run(str(job.pk))
    else:
        thread = threading.Thread(target=_run_in_background, args=(str(job.pk),), name=f"job-{job.pk}", daemon=True)
        thread.start()


def _run_in_background(job_id: str) -> None:
    """A job in a thread of the web process (no broker); the thread's connection closes with it."""
    try:
        run(job_id)
    except Exception:
        logger.exception("job %s could not be run", job_id)
    finally:
        connections.close_all()


def retry(job: Job) -> Job:
    """Queue a failed job again with the same parameters."""
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.QUEUED, progress=0, error="", finished_at=None, heartbeat_at=None
    )
    job.refresh_from_db()
    transaction.on_commit(lambda: _enqueue(job))
    return job


def mark_dead_jobs_failed(jobs=None) -> int:
    """Running jobs whose worker stopped sending heartbeats are failed, so they can be retried.

    Called by every status poll, so it never waits: a plain read finds the stale jobs (nearly
    always none), and only those are locked, skipping any row someone else holds (SKIP LOCKED)
    in a short transaction of its own. On SQLite, a database locked by a writer is skipped.
    """
    cutoff = timezone.now() - STALE_AFTER
    stale = Job.objects.filter(state__in=_LIVE, heartbeat_at__lt=cutoff)
    if jobs is not None:
        stale = stale.filter(pk__in=[j.pk for j in jobs])
    if not stale.exists():
        return 0
    try:
        with _no_lock_wait(), transaction.atomic():
            ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True))
            return Job.objects.filter(pk__in=ids).update(
                state=Job.State.FAILED, error=WORKER_DIED, finished_at=timezone.now()
            )
    except DatabaseError:
        if connection.vendor != "sqlite":
            raise
        return 0  # SQLite: someone is writing (a job, very likely); look again at the next poll


@contextlib.contextmanager
def _no_lock_wait() -> Iterator[None]:
    """SQLite: fail at once instead of waiting for the database's write lock (PostgreSQL uses SKIP LOCKED)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        (previous,) = cursor.fetchone()
        cursor.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(previous)}")


class _Heartbeat(threading.Thread):
    """Writes a running job's latest progress and a heartbeat every HEARTBEAT_EVERY, on its own connection."""

    def __init__(self, job_id):
        super().__init__(name=f"job-heartbeat-{job_id}", daemon=True)
        self.job_id = job_id
        self.latest: tuple[int, int | None] | None = None  # replaced whole, never mutated: no lock needed
        self.interval = max(HEARTBEAT_EVERY.total_seconds(), 0.1)
        self._stopped = threading.Event()
        self._warned = False
        self._connected = False

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.interval):  # a job done within a second never connects
                self.beat()
        finally:
            connections.close_all()  # this thread's connection only

    def beat(self) -> None:
        fields = {"heartbeat_at": timezone.now()}
        if self.latest is not None:
            fields["progress"], total = self.latest
            if total is not None:
                fields["total"] = total
        try:
            if not self._connected:
                self._limit_lock_waits()
                self._connected = True
            Job.objects.filter(pk=self.job_id, state=Job.State.RUNNING).update(**fields)
        except DatabaseError:
            if not self._warned:  # e.g. SQLite locked by the job's own transaction: the next beat tries again
                logger.warning("job %s: heartbeat not written", self.job_id, exc_info=True)
                self._warned = True

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=HEARTBEAT_LOCK_WAIT.total_seconds() * 3)

    def _limit_lock_waits(self) -> None:
        wait_ms = int(HEARTBEAT_LOCK_WAIT.total_seconds() * 1000)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config('lock_timeout', %s, false)", [f"{wait_ms}ms"])
            elif connection.vendor == "sqlite":
                cursor.execute(f"PRAGMA busy_timeout = {wait_ms}")


def run(job_id: str) -> None:
    """Run one job to the end, recording progress, success or failure. Called by the task or thread."""
    job = _retrying(lambda: Job.objects.get(pk=job_id))
    claimed = _retrying(
        lambda: Job.objects.filter(pk=job.pk, state__in=[Job.State.QUEUED, Job.State.FAILED]).update(
            state=Job.State.RUNNING, heartbeat_at=timezone.now(), attempts=job.attempts + 1
        )
    )
    if not claimed:  # running or finished already (a second delivery of the same task)
        return
    job.refresh_from_db()
    heartbeat = _Heartbeat(job.pk)
    heartbeat.start()
    try:
        result, error = _KINDS[job.kind].runner(job, _progress(job, heartbeat)) or {}, ""
    except Exception as exc:  # the job fails visibly; details go to the log
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        result, error = {}, str(exc)[:500] or exc.__class__.__name__
    finally:
        heartbeat.stop()
    if error:
        _finish(job, state=Job.State.FAILED, error=error, finished_at=timezone.now())
        return
    _finish(
        job,
        state=Job.State.DONE,
        result=result,
        progress=result.get("rows", job.progress),
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        file=job.file.name if job.file else "",
    )


def _finish(job: Job, **fields) -> None:
    """The job's outcome, written even when the database is briefly locked (SQLite: another writer),
    so a finished job never stays "running" until the dead-job sweep calls it failed."""
    _retrying(lambda: Job.objects.filter(pk=job.pk).update(**fields))


def _retrying(statement: Callable, *, attempts: int = 5):
    """A job's own bookkeeping statement, tried again while the database is briefly locked (SQLite
    answers "database table is locked" at once instead of waiting); never inside a transaction."""
    for attempt in range(attempts):
        try:
            return statement()
        except DatabaseError:
            if attempt == attempts - 1 or connection.in_atomic_block:
                raise
            time.sleep(0.2 * (attempt + 1))
    return None


def _progress(job: Job, heartbeat: _Heartbeat) -> Callable:
    """The runner's ``progress(done, total)``: handed to the heartbeat thread, and written at once
    (at most every HEARTBEAT_EVERY) while the runner has no transaction of its own open."""
    outside = len(connection.atomic_blocks)
    last_write = [timezone.now()]

    def progress(done: int, total: int | None = None) -> None:
        heartbeat.latest = (done, total)
        moment = timezone.now()
        if len(connection.atomic_blocks) > outside:
            return  # inside the work's transaction: only the heartbeat thread may write
        if moment - last_write[0] < HEARTBEAT_EVERY and (total is None or done < total):
            return
        last_write[0] = moment
        fields = {"progress": done, "heartbeat_at": moment}
        if total is not None:
            fields["total"] = total
        Job.objects.filter(pk=job.pk).update(**fields)

    return progress


def is_expired(job: Job) -> bool:
    if not job.finished_at:
        return False
    return timezone.now() - job.finished_at > timedelta(hours=settings.EXPORT_FILE_TTL_HOURS)
