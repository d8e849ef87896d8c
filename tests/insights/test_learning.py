"""The risk weights learnt from the shop's own last 90 days (insights/learning.py)."""

from datetime import date, timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from insights import learning
from insights.models import ScoringRun
from tests.factories import CustomerFactory

from .shop import TODAY, buys

pytestmark = pytest.mark.django_db


def test_the_fit_weighs_the_signal_that_foretold_leaving_and_never_goes_below_zero():
    rng = np.random.default_rng(7)
    foretelling, noise, misleading = rng.random(4000), rng.random(4000), rng.random(4000)
    left = (rng.random(4000) < 0.1 + 0.8 * foretelling - 0.05 * misleading).astype(float)

    weights = learning.fit_logistic(np.column_stack([foretelling, noise, misleading]), left)[:-1]

    assert weights[0] > 2.0
    assert weights[1] < 0.3 and weights[2] == pytest.approx(0.0, abs=1e-6)  # a signal only raises the risk


def test_nothing_is_learnt_from_too_few_cards_or_when_the_settings_set_the_weights(shop, settings):
    assert learning.learn(TODAY, using="default") is None  # 41 cards: fewer than MIN_CARDS
    settings.INSIGHTS_RISK_WEIGHTS = {"overdue": 4.0}
    learning.MIN_CARDS, before = 1, learning.MIN_CARDS
    try:
        assert learning.learn(TODAY, using="default") is None  # the Admin's weights win
    finally:
        learning.MIN_CARDS = before


def test_with_enough_cards_the_weights_are_learnt_and_scaled_to_the_defaults_total(shop, monkeypatch):
    monkeypatch.setattr(learning, "MIN_CARDS", 20)
    for n in range(12):  # a dozen more who slowed down 90 days ago and then stopped
        buys(CustomerFactory(), every=30 + n, last=TODAY - timedelta(days=100 + n), times=6)

    weights = learning.learn(TODAY, using="default")

    assert weights is not None and set(weights) == set(learning.risk.WEIGHTS)
    assert min(weights.values()) >= 0
    assert sum(weights.values()) == pytest.approx(sum(learning.risk.WEIGHTS.values()), abs=0.01)


def test_the_settings_page_shows_the_weights_the_last_full_run_learnt(admin_client):
    now = timezone.now()
    ScoringRun.objects.create(
        kind="full", as_of=date(2026, 12, 1), started_at=now, finished_at=now, model={"weights": {"fading": 6.25}}
    )
    html = admin_client.get(reverse("insights:settings")).content.decode()
    fading = html.split('id="weight-fading"')[1].split("</tr>")[0]
    assert ">6.25<" in fading
    assert ">—<" in html.split('id="weight-overdue"')[1].split("</tr>")[0]
