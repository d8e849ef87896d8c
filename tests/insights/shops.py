"""Cards that stop buying and cards that keep buying, owned by whom a test says, and scored today:
for the inbox and digest tests (insights/inbox.py, insights/digest.py)."""

from datetime import timedelta
from decimal import Decimal

from customers.models import Purchase, local_today
from tests.factories import CustomerFactory


def buys(customer, *, every: int, days_ago: int, times: int) -> None:
    last = local_today() - timedelta(days=days_ago)
    Purchase.objects.bulk_create(
        Purchase(
            customer=customer, product="咖啡豆", amount=Decimal("100.00"), purchased_on=last - timedelta(days=every * k)
        )
        for k in range(times)
    )


def stopped(owner, **fields):
    """A card that bought every 21 days and stopped 94 days ago: high risk, "no purchase for 94 days"."""
    card = CustomerFactory(owner=owner, **fields)
    buys(card, every=21, days_ago=94, times=15)
    return card


def steady(owner, **fields):
    """A card that buys every 10 days, last 3 days ago: low risk."""
    card = CustomerFactory(owner=owner, **fields)
    buys(card, every=10, days_ago=3, times=20)
    return card
