"""Keeping the tokens' call log (api.models.ApiCall) to its period: API_CALL_LOG_DAYS (90 by default).

    purge(now=None) -> int      # deletes the calls older than the period, a batch at a time

Run by the nightly sweep with the webhooks' log (api.tasks.prune_webhook_log).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import ApiCall

BATCH = 10_000


def purge(now=None) -> int:
    """Delete the calls older than API_CALL_LOG_DAYS; returns how many. In batches, so the table
    is never locked for long and a crash leaves it consistent."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.API_CALL_LOG_DAYS)
    deleted = 0
    while True:
        ids = list(ApiCall.objects.filter(at__lt=cutoff).order_by().values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        deleted += ApiCall.objects.filter(pk__in=ids).delete()[0]
