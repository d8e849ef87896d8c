"""The purchase history the insights tests build (the ``shop`` fixture is in conftest.py)."""

from datetime import date, timedelta
from decimal import Decimal

from customers.models import Purchase

TODAY = date(2026, 12, 1)


def buys(customer, *, every: int, last: date, times: int, amount: str = "100.00") -> None:
    Purchase.objects.bulk_create(
        Purchase(
            customer=customer, product="咖啡豆", amount=Decimal(amount), purchased_on=last - timedelta(days=every * k)
        )
        for k in range(times)
    )
