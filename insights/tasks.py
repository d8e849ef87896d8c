"""Celery tasks of the scores (crm/settings.py CELERY_BEAT_SCHEDULE): the nightly full run, and the
incremental run every few minutes for the cards that changed since (insights/runs.py); the owners'
daily digest by e-mail (insights/digest.py)."""

from celery import shared_task

from .runs import score_changed, score_customers


@shared_task(name="insights.score_customers", acks_late=True, ignore_result=True)
def score() -> int:
    return score_customers()


@shared_task(name="insights.score_changed", acks_late=True, ignore_result=True)
def score_changes() -> int:
    return score_changed()


@shared_task(name="insights.send_risk_digest", acks_late=True, ignore_result=True)
def send_risk_digest() -> int:
    from .digest import send_digests

    return send_digests().sent
