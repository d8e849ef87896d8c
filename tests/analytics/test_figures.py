"""The dashboard's figures equal the same figures recomputed in plain Python from the raw rows."""

from datetime import date

import pytest

from analytics import figures
from analytics.filters import ClosureFilter
from closures.models import ClosureRequest
from tests.factories import ClosureFactory, ClosureReasonFactory, CustomerFactory, UserFactory

from .history import Filters, expected, local

TODAY = date(2024, 5, 15)

CASES = {
    "january": lambda h: Filters(date(2024, 1, 1), date(2024, 1, 31)),
    "first quarter with reverted": lambda h: Filters(date(2024, 1, 1), date(2024, 3, 31), include_reverted=True),
    "february, cards closed, regular segment": lambda h: Filters(
        date(2024, 2, 1), date(2024, 2, 29), action="close", segment="regular"
    ),
    "one reason over a winter": lambda h: Filters(date(2023, 11, 15), date(2024, 2, 14), reason=h.reasons["price"]),
    "retired reason": lambda h: Filters(date(2023, 10, 1), date(2024, 4, 30), reason=h.reasons["retired"]),
    "one closer and tenure band": lambda h: Filters(
        date(2023, 10, 1), date(2024, 4, 30), by=h.staff[1], tenure="1to2y", include_reverted=True
    ),
    "one owner, one category": lambda h: Filters(date(2023, 12, 1), date(2024, 4, 30), owner=h.owners[0]),
    "service category": lambda h: Filters(date(2023, 10, 1), date(2024, 4, 30), category="service"),
    "all time": lambda h: Filters(None, date(2024, 4, 30)),
}


def _compute(f: Filters):
    fs = ClosureFilter(f.query(), today=TODAY)
    assert fs.is_valid(), fs.errors
    return figures.compute(fs)


def _as_dict(slices, key=str):
    return {key(s.key): s.count for s in slices if s.count}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_figures_match_an_independent_count_of_the_raw_rows(case, history):
    f = CASES[case](history)
    want = expected(history, f)
    assert want["total"] > 0, "the case must select something to prove anything"
    got = _compute(f)

    assert got.total == want["total"]
    assert _as_dict(got.by_action) == want["by_action"]
    assert _as_dict(got.by_reason, int) == want["by_reason"]
    assert _as_dict(got.by_category) == want["by_category"]
    assert _as_dict(got.by_segment) == want["by_segment"]
    assert _as_dict(got.by_tenure) == want["by_tenure"]
    assert _as_dict(got.by_staff, int) == want["by_staff"]
    assert {(m.first, cat): n for m in got.months for cat, n in m.counts.items() if n} == want["by_month"]
    assert sum(s.share for s in got.by_reason) == pytest.approx(1.0)
    assert got.leading_reason.count == max(want["by_reason"].values())
    assert got.reinstated == want["reinstated"]
    assert got.churn_rate == pytest.approx(want["churn"])
    if want["churn"] is not None:
        assert got.churn.current.population == want["population"]
    if f.first is None:
        assert got.previous is None
    else:
        assert got.previous_total == want["previous_total"]
        assert got.previous_churn_rate == pytest.approx(want["previous_churn"])
        if want["previous_total"]:
            change = (want["total"] - want["previous_total"]) * 100 / want["previous_total"]
            assert got.total_change == pytest.approx(change)


def test_the_history_covers_the_awkward_cases(history):
    """Guards the cases above from passing vacuously."""
    closures = history.closures
    assert any(c.reverted_at for c in closures)
    assert any(c.customer_erased for c in closures)
    assert any(c.reason.code == "retired-one" for c in closures)
    assert len({c.performed_by_id for c in closures}) > 1
    want = expected(history, Filters(date(2024, 1, 1), date(2024, 3, 31)))
    assert want["population"] > 0 and want["closed_cards"] > 0 and want["reinstated"] > 0 and want["previous_total"] > 0


def test_a_closure_at_2330_local_on_31_january_counts_in_january_and_0030_in_february(db):
    january = ClosureFactory(performed_at=local(2024, 1, 31, 23, 30))  # 15:30 UTC on the 31st
    february = ClosureFactory(performed_at=local(2024, 2, 1, 0, 30))  # 16:30 UTC on the 31st

    jan = _compute(Filters(date(2024, 1, 1), date(2024, 1, 31)))
    feb = _compute(Filters(date(2024, 2, 1), date(2024, 2, 29)))
    both = _compute(Filters(date(2024, 1, 1), date(2024, 2, 29)))

    assert (jan.total, feb.total) == (1, 1)
    assert list(ClosureFilter(Filters(date(2024, 1, 1), date(2024, 1, 31)).query()).qs) == [january]
    assert list(ClosureFilter(Filters(date(2024, 2, 1), date(2024, 2, 29)).query()).qs) == [february]
    assert [(m.first, m.total) for m in both.months] == [(date(2024, 1, 1), 1), (date(2024, 2, 1), 1)]


def test_churn_rate_is_cards_closed_over_cards_active_at_any_time_in_the_period(db):
    old = [CustomerFactory(created_at=local(2023, 1, 1)) for _ in range(10)]
    CustomerFactory(created_at=local(2024, 3, 5))  # a customer since 5 March: active during the period
    CustomerFactory(created_at=local(2024, 4, 1))  # a customer since after the period: not counted
    ClosureFactory(customer=old[0], performed_at=local(2024, 2, 20))  # closed before the start and since: not active
    ClosureFactory(
        customer=old[1], performed_at=local(2024, 2, 1), reverted_at=local(2024, 2, 10)
    )  # reverted before the start: active again
    ClosureFactory(customer=old[2], performed_at=local(2024, 3, 2))
    ClosureFactory(customer=old[3], performed_at=local(2024, 3, 31, 23, 59))
    ClosureFactory(customer=old[4], performed_at=local(2024, 3, 3), action="void")  # not a card closure
    ClosureFactory(customer=old[5], performed_at=local(2024, 3, 4), reverted_at=local(2024, 3, 6))  # reverted
    ClosureFactory(
        customer=old[6], performed_at=local(2024, 1, 4), reverted_at=local(2024, 3, 20)
    )  # closed at the start, reinstated during the period: active during it

    got = _compute(Filters(date(2024, 3, 1), date(2024, 3, 31)))

    churn = got.churn.current
    assert (churn.active_at_start, churn.new, churn.reactivated) == (8, 1, 1)
    assert churn.population == 10
    assert churn.churned == 2
    assert got.churn_rate == pytest.approx(2 / 10)
    assert got.reinstated == 2
    with_reverted = _compute(Filters(date(2024, 3, 1), date(2024, 3, 31), include_reverted=True))
    assert with_reverted.churn.current.churned == 3
    voids = _compute(Filters(date(2024, 3, 1), date(2024, 3, 31), action="void"))
    assert voids.churn.current.churned == 1 and voids.churn.action == "void"


def test_a_filter_that_describes_closures_hides_the_churn_rate_and_says_why(db):
    got = _compute(Filters(date(2024, 3, 1), date(2024, 3, 31), category="price"))
    assert got.churn_rate is None and got.churn.blocked_by == ["Reason category"]


def test_change_is_measured_against_the_previous_period_of_equal_length(db):
    for day in (2, 5, 9):  # 1–10 March: 3 closures
        ClosureFactory(performed_at=local(2024, 3, day, 12))
    for day in (20, 28):  # 20–29 February (the 10 days before): 2 closures
        ClosureFactory(performed_at=local(2024, 2, day, 12))
    ClosureFactory(performed_at=local(2024, 2, 19, 23, 59))  # 11 days before: outside both

    got = _compute(Filters(date(2024, 3, 1), date(2024, 3, 10)))

    assert got.previous.first == date(2024, 2, 20) and got.previous.last == date(2024, 2, 29)
    assert (got.total, got.previous_total) == (3, 2)
    assert got.total_change == pytest.approx(50.0)


def test_pending_approvals_are_counted(db):
    reason, staff = ClosureReasonFactory(), UserFactory()
    for state in ("pending", "pending", "approved", "rejected"):
        ClosureRequest.objects.create(
            customer=CustomerFactory(), action="close", reason=reason, requested_by=staff, state=state
        )
    assert _compute(Filters(date(2024, 3, 1), date(2024, 3, 10))).pending_approvals == 2
