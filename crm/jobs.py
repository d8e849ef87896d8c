"""Long work as jobs: a Job row records state and progress; the work runs on Celery when
CELERY_BROKER_URL is set and in-process otherwise (so `make run` needs no extra service).

Apps register a runner per job kind in their AppConfig.ready():

    jobs.register("closures_xlsx", run_closures_export, permission="closures.export_closures")

A runner is ``runner(job, progress) -> dict``: it calls ``progress(done, total)`` as it goes,
may save a file to ``job.file`` and returns a small JSON-able result (e.g. {"rows": 250000}).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Job

logger = logging.getLogger(__name__)

# A running job whose heartbeat is older than this is taken as dead (its worker was killed).
STALE_AFTER = timedelta(minutes=2)
HEARTBEAT_EVERY = timedelta(seconds=1)


@dataclass(frozen=True)
class JobKind:
    runner: Callable
    permission: str


_KINDS: dict[str, JobKind] = {}


def register(kind: str, runner: Callable, *, permission: str) -> None:
    _KINDS[kind] = JobKind(runner=runner, permission=permission)


def kind_permission(kind: str) -> str:
    return _KINDS[kind].permission


def start(kind: str, *, user, params: dict) -> Job:
    """Create the job and queue it once the surrounding transaction commits."""
    if kind not in _KINDS:
        raise KeyError(f"no runner registered for job kind {kind!r}")
    job = Job.objects.create(kind=kind, created_by=user, params=params)
    transaction.on_commit(lambda: _enqueue(job))
    return job


def _enqueue(job: Job) -> None:
    from .tasks import run_job

    if settings.CELERY_BROKER_URL:
        run_job.delay(str(job.pk))
    else:
        run_job.apply(args=(str(job.pk),))


def retry(job: Job) -> Job:
    """Queue a failed job again with the same parameters."""
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.QUEUED, progress=0, error="", finished_at=None, heartbeat_at=None
    )
    job.refresh_from_db()
    transaction.on_commit(lambda: _enqueue(job))
    return job


def mark_dead_jobs_failed(jobs=None) -> int:
    """Running jobs whose worker stopped sending heartbeats are failed, so they can be retried."""
    cutoff = timezone.now() - STALE_AFTER
    qs = Job.objects.filter(state__in=[Job.State.RUNNING, Job.State.QUEUED], heartbeat_at__lt=cutoff)
    if jobs is not None:
        qs = qs.filter(pk__in=[j.pk for j in jobs])
    return qs.update(
        state=Job.State.FAILED, error="The worker stopped before the job finished.", finished_at=timezone.now()
    )


def run(job_id: str) -> None:
    """Run one job to the end, recording progress, success or failure. Called by the task."""
    job = Job.objects.get(pk=job_id)
    if job.state not in (Job.State.QUEUED, Job.State.FAILED):
        return
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, heartbeat_at=now, attempts=job.attempts + 1)
    job.refresh_from_db()
    last_beat = [now]

    def progress(done: int, total: int | None = None) -> None:
        moment = timezone.now()
        if moment - last_beat[0] < HEARTBEAT_EVERY and (total is None or done < total):
            return
        last_beat[0] = moment
        fields = {"progress": done, "heartbeat_at": moment}
        if total is not None:
            fields["total"] = total
        Job.objects.filter(pk=job.pk).update(**fields)

    try:
        result = _KINDS[job.kind].runner(job, progress) or {}
    except Exception as exc:  # the job fails visibly; details go to the log
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED, error=str(exc)[:500] or exc.__class__.__name__, finished_at=timezone.now()
        )
        return
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.DONE,
        result=result,
        progress=result.get("rows", job.progress),
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        file=job.file.name if job.file else "",
    )


def is_expired(job: Job) -> bool:
    if not job.finished_at:
        return False
    return timezone.now() - job.finished_at > timedelta(hours=settings.EXPORT_FILE_TTL_HOURS)
