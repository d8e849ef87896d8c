"""The shop every insights test scores: forty steady customers and one who stopped buying."""

from datetime import date, timedelta

import numpy as np
import pytest

from tests.factories import CustomerFactory

from .shop import TODAY, buys


@pytest.fixture
def shop():
    """Forty steady customers buying every 7 to 46 days up to last week, and one who stopped."""
    rng = np.random.default_rng(21)
    steady = []
    for n in range(40):
        card = CustomerFactory(customer_since=date(2024, 1, 1))
        buys(card, every=7 + n, last=TODAY - timedelta(days=int(rng.integers(1, 7))), times=int(rng.integers(4, 14)))
        steady.append(card)
    stopped = CustomerFactory(name="王静", customer_since=date(2024, 1, 1))
    buys(stopped, every=21, last=TODAY - timedelta(days=94), times=15)
    return steady, stopped
