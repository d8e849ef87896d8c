from celery import shared_task

from . import jobs


@shared_task(name="crm.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> None:
    jobs.run(job_id)


@shared_task(name="crm.dispatch_events", acks_late=True)
def dispatch_events() -> int:
    """Hand the outbox's unhandled events to their consumers (crm/outbox.py)."""
    from . import outbox

    return outbox.dispatch()
