"""Celery tasks of the follow-ups: the periodic sweep (Celery beat, every minute: crm/settings.py
CELERY_BEAT_SCHEDULE, ``make beat``) and sending one follow-up at once.

Retries and backoff are the follow-up's own (followups/sending.py: attempts, last_error, due_at
moved 1, 5, 25... minutes), not Celery's: a failed message waits in the database for a later sweep,
so a worker restart loses nothing and a message is never in two queues at once.
"""

from celery import shared_task

from crm import outbox

from . import sending


@shared_task(name="followups.send_due", acks_late=True, ignore_result=True)
def send_due(limit: int | None = None) -> dict:
    """Hand the outbox's events to the planner first (a dispatch lost to a restart is picked up
    here), then send every follow-up that is due."""
    outbox.dispatch()
    return vars(sending.send_due(limit=limit))


@shared_task(name="followups.send_followup", acks_late=True, ignore_result=True)
def send_followup(followup_id: int) -> dict:
    """Send one follow-up now if it is due and still pending (idempotent: a sent one is not due)."""
    return vars(sending.send_due(ids=[followup_id]))
