"""Celery tasks of the webhooks (api/delivery.py): kicked after each fan-out commits, and run by beat
every 30 s (crm/settings.py CELERY_BEAT_SCHEDULE), so retries happen without anyone kicking them.

Retries and backoff are the delivery's own (next_attempt_at in the database), not Celery's: a failed
delivery waits in its row, so a worker restart loses nothing.
"""

from celery import shared_task

from crm import outbox

from . import call_log, delivery


@shared_task(name="api.send_webhooks", acks_late=True, ignore_result=True)
def send_webhooks(limit: int | None = None) -> dict:
    """Fan out any event whose dispatch was lost (a restart), then send every delivery that is due."""
    outbox.dispatch(["webhooks"])
    sent = delivery.send_due(limit=limit)
    return {"attempted": sent.attempted, "delivered": sent.delivered, "failed": sent.failed}


@shared_task(name="api.prune_webhook_log", ignore_result=True)
def prune_webhook_log() -> int:
    """Delivered and failed deliveries older than WEBHOOK_LOG_DAYS leave the log, and the tokens' calls
    older than API_CALL_LOG_DAYS leave theirs (api.call_log)."""
    return delivery.prune() + call_log.purge()
