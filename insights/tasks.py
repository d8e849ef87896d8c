"""Celery task of the scores: the nightly scoring run (crm/settings.py CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .scoring import score_customers


@shared_task(name="insights.score_customers", acks_late=True, ignore_result=True)
def score() -> int:
    return score_customers()
