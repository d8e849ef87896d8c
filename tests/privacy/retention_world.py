"""Cards closed, voided and archived some months ago, and the rules switched on, for the retention tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from closures.models import ClosureReason
from customers.models import Customer
from privacy.models import RetentionRule
from privacy.retention import months_before
from tests.factories import ClosureFactory, CustomerFactory

ACTION_OF = {"closed": "close", "void": "void", "archived": "archive"}


def months_ago(months: int, *, days: int = 0) -> dt.datetime:
    day = months_before(timezone.localdate(), months) - dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


def closed_card(months: int, status: str = "closed", *, days: int = 0, **fields) -> Customer:
    """A card whose closure in force was performed ``months`` (and ``days``) ago: the closure row as
    history (ClosureFactory, counted in the tallies) and the card's status to match."""
    card = CustomerFactory(**fields)
    ClosureFactory(
        customer=card,
        action=ACTION_OF[status],
        reason=ClosureReason.objects.get(code="moved-away"),
        previous_status="active",
        performed_at=months_ago(months, days=days),
    )
    Customer.objects.filter(pk=card.pk).update(status=status)
    card.refresh_from_db()
    return card


def switch_on(status: str, action: str, months: int, *, by) -> RetentionRule:
    RetentionRule.objects.filter(status=status, action=action).update(
        enabled=True, after_months=months, changed_by=by, changed_at=timezone.now()
    )
    return RetentionRule.objects.get(status=status, action=action)
