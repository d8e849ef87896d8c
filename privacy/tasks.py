"""Celery task of data retention (crm/settings.py CELERY_BEAT_SCHEDULE): the nightly run of the
switched-on rules (privacy/retention_runs.py); without a broker, ``manage.py run_retention`` from cron."""

from celery import shared_task

from .retention_runs import start_scheduled


@shared_task(name="privacy.run_retention", acks_late=True, ignore_result=True)
def run_retention() -> str:
    job = start_scheduled()
    return str(job.pk) if job else ""
