"""The BG/NBD and Gamma-Gamma models (insights/clv.py) fitted on the CDNOW sample give the published
parameters and the published predictions (the papers' and the lifetimes package's figures)."""

import numpy as np
import pytest

from insights import clv

from .cdnow import summary


@pytest.fixture(scope="module")
def cdnow():
    return summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return clv.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


def customer(cdnow, number: int) -> tuple:
    i = int(np.flatnonzero(cdnow["ID"] == number)[0])
    return cdnow["x"][i], cdnow["t_x"][i], cdnow["T"][i], cdnow["zbar"][i]


def test_the_cdnow_sample_is_the_published_one(cdnow):
    assert len(cdnow["ID"]) == 2357
    assert int((cdnow["x"] > 0).sum()) == 946  # the repeat buyers the Gamma-Gamma model is fitted on


def test_the_bgnbd_fit_gives_the_published_parameters(fitted):
    """Fader, Hardie and Lee (2005): r 0.243, alpha 4.414, a 0.793, b 2.426."""
    assert fitted.r == pytest.approx(0.243, abs=0.001)
    assert fitted.alpha == pytest.approx(4.414, abs=0.01)
    assert fitted.a == pytest.approx(0.793, abs=0.002)
    assert fitted.b == pytest.approx(2.426, abs=0.01)


def test_the_log_likelihood_at_the_published_parameters_is_the_papers(cdnow):
    """The paper's maximum: LL = -9582.4."""
    ll = clv.bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), cdnow["x"], cdnow["t_x"], cdnow["T"]).sum()
    assert ll == pytest.approx(-9582.4, abs=0.5)


@pytest.mark.parametrize(
    "number, expected",
    [(1516, 0.7106), (157, 0.6624), (1981, 0.4865), (841, 0.4747), (509, 0.4249)],
)
def test_the_best_customers_next_week_is_the_published_prediction(cdnow, fitted, number, expected):
    """The lifetimes documentation's five customers with the most expected purchases next week."""
    x, t_x, T, _zbar = customer(cdnow, number)
    assert fitted.expected_purchases(1, x, t_x, T) == pytest.approx(expected, abs=0.002)


def test_expected_purchases_agree_with_customers_simulated_from_the_model(fitted):
    """Customers drawn from the fitted model (purchase rates from Gamma(r, alpha), after each purchase a
    dropout with a probability from Beta(a, b)) buy, on average, what the formula expects."""
    rng = np.random.default_rng(2005)
    n, weeks = 400_000, 39.0
    rate = rng.gamma(fitted.r, 1 / fitted.alpha, n)
    dropout = rng.beta(fitted.a, fitted.b, n)
    clock, bought, alive = rng.exponential(1 / rate), np.zeros(n), np.ones(n, dtype=bool)
    while True:
        buying = alive & (clock <= weeks)
        if not buying.any():
            break
        bought += buying
        alive &= ~(buying & (rng.random(n) < dropout))
        clock = np.where(buying, clock + rng.exponential(1 / rate), clock)
    assert bought.mean() == pytest.approx(fitted.expected_purchases_new(weeks), rel=0.02)
    assert fitted.expected_purchases(weeks, 0, 0, 0) == pytest.approx(fitted.expected_purchases_new(weeks))


def test_probability_alive(cdnow, fitted):
    # No repeat purchase: the model cannot tell a dropout, so P(alive) is 1.
    assert fitted.probability_alive(0, 0, 38.86) == 1.0
    # Same purchases, the last one long ago: less likely alive than one who bought last week.
    recent = fitted.probability_alive(5, 37.0, 38.86)
    long_ago = fitted.probability_alive(5, 5.0, 38.86)
    assert 0 < long_ago < recent <= 1
    alive = fitted.probability_alive(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert np.all((alive > 0) & (alive <= 1))


def test_the_gamma_gamma_fit_and_expected_spend_are_the_published_ones(cdnow):
    """lifetimes' documentation: p 6.25, q 3.74, v 15.45; customers 1, 2 and 6 expect 24.66, 18.91, 71.46
    per purchase, and those without a repeat purchase the population's 35.17."""
    spend = clv.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    assert (spend.p, spend.q, spend.v) == pytest.approx((6.25, 3.74, 15.45), abs=0.02)
    expected = spend.expected_average_spend(cdnow["x"], cdnow["zbar"])
    for number, value in ((1, 24.66), (2, 18.91), (6, 71.46), (3, 35.17)):
        assert expected[int(np.flatnonzero(cdnow["ID"] == number)[0])] == pytest.approx(value, abs=0.02)


def test_value_is_expected_purchases_times_spend_discounted_per_period(cdnow, fitted):
    spend = clv.GammaGamma(6.25, 3.74, 15.45)
    x, t_x, T, zbar = customer(cdnow, 1)
    undiscounted = clv.clv(fitted, spend, x, t_x, T, zbar, periods=52)
    assert undiscounted == pytest.approx(
        fitted.expected_purchases(52, x, t_x, T) * spend.expected_average_spend(x, zbar)
    )
    assert clv.clv(fitted, spend, x, t_x, T, zbar, periods=52, discount=0.01) < undiscounted
