"""The tokens' call log is kept API_CALL_LOG_DAYS, then deleted by the daily sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api import call_log, tokens
from api.models import ApiCall

pytestmark = pytest.mark.django_db


def test_calls_older_than_the_period_are_deleted_and_newer_ones_kept(settings, staff_user, admin_user, monkeypatch):
    settings.API_CALL_LOG_DAYS = 30
    monkeypatch.setattr(call_log, "BATCH", 2)
    token, _secret = tokens.create_token(name="Shop", owner=staff_user, role="Staff", by=admin_user)
    now = timezone.now()
    for days in (45, 40, 31, 29, 1):
        ApiCall.objects.create(
            token=token, at=now - timedelta(days=days), method="GET", path="/api/v1/reasons/", status=200, duration_ms=3
        )
    assert call_log.purge(now) == 3
    kept = sorted((now - call.at).days for call in ApiCall.objects.all())
    assert kept == [1, 29]
