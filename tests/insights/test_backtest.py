"""The backtest (insights/backtest.py): scores as of a past day measured against what happened after it.

On a made-up history whose answer is known the measures are exact; on the CDNOW sample, loaded
through the customer and purchase imports (bench/cdnow.py), they are the figures docs/churn-warning.md
publishes."""

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from customers.models import Customer, Purchase
from insights import backtest as bt
from insights.models import Score
from tests.factories import ClosureFactory, CustomerFactory

CUTOFF = dt.date(2024, 6, 30)


def history(card, first: dt.date, last: dt.date, every: int = 14) -> list[Purchase]:
    days = (last - first).days // every + 1
    return [
        Purchase(
            customer=card,
            product="Tea",
            quantity=1,
            amount=Decimal("20.00"),
            purchased_on=first + dt.timedelta(days=every * k),
        )
        for k in range(days)
    ]


@pytest.fixture
def stayers_and_leavers(db):
    """20 customers who buy every two weeks before and after the cut-off, 20 who stopped 4 months before it."""
    start = CUTOFF - dt.timedelta(days=300)
    stayers = [CustomerFactory() for _ in range(20)]
    leavers = [CustomerFactory() for _ in range(20)]
    rows = []
    for card in stayers:
        rows += history(card, start, CUTOFF + dt.timedelta(days=170))
    for card in leavers:
        rows += history(card, start, CUTOFF - dt.timedelta(days=120))
    Purchase.objects.bulk_create(rows)
    CustomerFactory()  # never bought: not measured
    return stayers, leavers


def test_customers_who_stopped_buying_rank_first_for_every_score(stayers_and_leavers):
    result = bt.backtest(CUTOFF, window=180, churn="quiet")

    assert (result["active_cards"], result["scored"], result["without_purchase"]) == (41, 40, 1)
    assert (result["churned"], result["base_rate"]) == (20, 0.5)
    for name in ("risk", "recency", "bgnbd"):
        figures = result["scorers"][name]
        assert figures["auc"] == pytest.approx(1.0), name
        assert figures["top10"] == {"k": 4, "precision": 1.0, "recall": 0.2, "lift": 2.0}, name
    risk_deciles = result["scorers"]["risk"]["deciles"]
    rates = [row["churn_rate"] for row in risk_deciles]  # tied scores share a tenth
    assert rates[0] == 0.0 and rates[-1] == 1.0 and rates == sorted(rates)
    assert sum(row["n"] for row in risk_deciles) == 40
    assert not Score.objects.exists()  # a backtest writes no score


def test_a_closure_in_the_window_is_churn_unless_reverted_and_one_before_the_cutoff_leaves_the_population(
    stayers_and_leavers,
):
    stayers, _leavers = stayers_and_leavers
    after = timezone.make_aware(dt.datetime.combine(CUTOFF + dt.timedelta(days=10), dt.time(12)))
    ClosureFactory(customer=stayers[0], performed_at=after)
    ClosureFactory(customer=stayers[1], performed_at=after, reverted_at=after + dt.timedelta(days=1))
    ClosureFactory(customer=stayers[2], performed_at=after - dt.timedelta(days=30))  # closed before the cut-off
    ClosureFactory(customer=stayers[3], action="void", performed_at=after)  # a mistake, not a customer leaving

    result = bt.backtest(CUTOFF, window=180, churn="closed")

    assert result["scored"] == 39 and result["churned"] == 1
    assert bt.backtest(CUTOFF, window=180, churn="either")["churned"] == 21


def test_auc_counts_ties_as_half_and_the_top_tenth_shares_its_boundary_pro_rata():
    churned = np.array([True, False, True, False])
    assert bt.auc(np.array([1.0, 1.0, 1.0, 1.0]), churned) == 0.5
    assert bt.auc(np.array([0.0, 1.0, 0.0, 1.0]), churned) == 0.0
    scores = np.array([5.0] * 10 + [1.0] * 10)
    labels = np.array([True] * 5 + [False] * 5 + [False] * 10)
    top = bt.top_share(scores, labels)  # 2 places among 10 tied customers, half of them churned
    assert top == {"k": 2, "precision": 0.5, "recall": 0.2, "lift": 2.0}


def test_the_command_prints_the_table_and_the_json(stayers_and_leavers, capsys):
    call_command("backtest", "--cutoff", CUTOFF.isoformat(), "--churn", "quiet")
    table = capsys.readouterr().out
    assert "only customers with at least one purchase by the cut-off" in table
    assert "Recency baseline (days since the last purchase)" in table and "1.000" in table

    call_command("backtest", "--cutoff", CUTOFF.isoformat(), "--window", "90", "--json")
    figures = json.loads(capsys.readouterr().out)
    assert figures["window_days"] == 90 and figures["scorers"]["risk"]["auc"] == pytest.approx(1.0)


# --- CDNOW -------------------------------------------------------------------------------------------

cdnow = pytest.importorskip("bench.cdnow")


@pytest.fixture
def cdnow_sample(db):
    try:
        cdnow.data_file(cdnow.SAMPLE)
    except LookupError as error:
        pytest.skip(str(error))
    return cdnow.load(sample=True)


def test_the_cdnow_sample_goes_in_through_the_imports_with_every_purchase(cdnow_sample):
    assert (cdnow_sample.customers, cdnow_sample.purchases, cdnow_sample.loaded) == (2357, 6919, True)
    counts = dict(cdnow.cards().values_list("customer_no", "purchase_count"))
    assert counts == cdnow.per_customer(sample=True)
    assert Customer.objects.get(customer_no="CDNOW-00004").customer_since == dt.date(1997, 1, 1)
    assert cdnow.load(sample=True).loaded is False  # loaded once


def test_on_the_cdnow_sample_the_backtest_gives_the_published_figures(cdnow_sample):
    """The sample's figures in docs/churn-warning.md: cut-off at the end of the papers' 39 calibration
    weeks, churn = no purchase in the 39 holdout weeks. With the weights learnt from the 90 days before
    the cut-off (insights/learning.py) the risk score ranks about as well as recency by AUC; on the
    sample's 2,357 customers its top tenth (235 customers) is still less pure than recency's, unlike
    on the full file (the next test). These assertions pin what was measured, so a change shows here and in
    the docs."""
    result = bt.backtest(cdnow.CALIBRATION_END, window=cdnow.HOLDOUT_DAYS, churn="quiet", within=cdnow.cards())

    assert (result["scored"], result["churned"]) == (2357, 1673)
    assert result["bgnbd"]["r"] == pytest.approx(0.243, abs=0.001)  # the papers' fit on the same 39 weeks
    assert result["bgnbd"]["alpha"] == pytest.approx(4.414, abs=0.01)
    model, recency = result["scorers"]["risk"], result["scorers"]["recency"]
    assert recency["auc"] == pytest.approx(0.771, abs=0.005)
    assert recency["top10"]["lift"] == pytest.approx(1.27, abs=0.01)
    assert model["auc"] == pytest.approx(0.760, abs=0.005)
    assert model["top10"]["lift"] == pytest.approx(1.21, abs=0.01)


@pytest.fixture
def cdnow_master(db):
    try:
        cdnow.data_file(cdnow.MASTER)
    except LookupError as error:
        pytest.skip(str(error))
    return cdnow.load(sample=False)


def test_on_the_whole_cdnow_history_the_model_beats_the_recency_baseline(cdnow_master):
    """Issue 21's criterion, on the 23,570 customers of CDNOW loaded through the imports: scored from
    the 39 calibration weeks only (the risk weights learnt from their last 90 days), the risk score's
    top tenth holds more of the customers who do not buy in the next 39 weeks than recency's (the
    lift the issue asks about), and it ranks them all about as well (AUC 0.757 against 0.759). The
    margins are small (docs/churn-warning.md): CDNOW's churners are mostly one-time buyers, whom
    recency already ranks first."""
    result = bt.backtest(cdnow.CALIBRATION_END, window=cdnow.HOLDOUT_DAYS, churn="quiet", within=cdnow.cards())

    assert result["scored"] == 23570
    model, recency = result["scorers"]["risk"], result["scorers"]["recency"]
    assert model["top10"]["lift"] > recency["top10"]["lift"]
    assert model["auc"] == pytest.approx(0.757, abs=0.005) and recency["auc"] == pytest.approx(0.759, abs=0.005)
