"""The dashboard's follow-up figures (analytics/followups.py) equal the same figures recounted in
plain Python from the raw follow-up and answer rows, with the dashboard's filters applied."""

import statistics
from datetime import date

import pytest

from analytics import followups
from analytics.filters import ClosureFilter

from .followup_history import activity, agreement, build_aftercare, matrix, month_key, satisfaction, winback
from .history import Filters

TODAY = date(2024, 5, 15)

CASES = {
    "january to march": lambda h: Filters(date(2024, 1, 1), date(2024, 3, 31)),
    "with reverted closures": lambda h: Filters(date(2023, 10, 1), date(2024, 4, 30), include_reverted=True),
    "cards closed, regular segment": lambda h: Filters(
        date(2023, 10, 1), date(2024, 4, 30), action="close", segment="regular"
    ),
    "one reason": lambda h: Filters(date(2023, 10, 1), date(2024, 4, 30), reason=h.reasons["price"]),
    "one owner": lambda h: Filters(date(2023, 10, 1), date(2024, 4, 30), owner=h.owners[0]),
    "one closer": lambda h: Filters(date(2023, 10, 1), date(2024, 4, 30), by=h.staff[1]),
    "service category": lambda h: Filters(date(2023, 10, 1), date(2024, 4, 30), category="service"),
    "all time": lambda h: Filters(None, date(2024, 4, 30)),
    # Whole months from the activity tally, the days either side from the summary rows.
    "mid-month to mid-month": lambda h: Filters(date(2023, 11, 15), date(2024, 3, 10)),
    "mid-month to mid-month, with reverted closures": lambda h: Filters(
        date(2023, 11, 15), date(2024, 3, 10), include_reverted=True
    ),
    "all time up to the middle of a month": lambda h: Filters(None, date(2024, 2, 20)),
}


@pytest.fixture
def care(history):
    return build_aftercare(history)


def compute(f: Filters):
    fs = ClosureFilter(f.query(), today=TODAY)
    assert fs.is_valid(), fs.errors
    return followups.compute(fs)


def counts(a: followups.Activity) -> list[int]:
    return [a.sent, a.answered, a.on_time, a.late, a.not_done, a.upcoming]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_every_follow_up_figure_matches_a_recount_of_the_raw_rows(case, history, care):
    """Survey response and callback completion by month, owner and reason; the stated-vs-own matrix
    and its agreement; CSAT and NPS by reason and category; win-back by reason and kind."""
    f = CASES[case](history)
    got = compute(f)
    check_activity(f, history, care, got)
    check_matrix(f, history, care, got)
    check_satisfaction(f, history, care, got)
    check_winback(f, history, care, got)


def check_activity(f, history, care, got):
    want = activity(history, care, f)
    assert want[("all", "")][0] > 0, "the case must select surveys to prove anything"

    assert counts(got.activity_total) == want[("all", "")]
    assert {a.key: counts(a) for a in got.by_month} == {k: v for (d, k), v in want.items() if d == "month"}
    assert {a.key: counts(a) for a in got.by_owner} == {k: v for (d, k), v in want.items() if d == "owner"}
    assert {a.key: counts(a) for a in got.by_reason} == {k: v for (d, k), v in want.items() if d == "reason"}
    total = want[("all", "")]
    assert got.activity_total.response_rate == pytest.approx(total[1] / total[0])
    due = total[2] + total[3] + total[4]
    assert got.activity_total.completion == pytest.approx((total[2] + total[3]) / due)
    assert [a.key for a in got.by_month] == sorted(a.key for a in got.by_month)


def check_matrix(f, history, care, got):
    want = matrix(history, care, f)
    got = got.matrix

    cells = {
        (row.reason_id, column.key): cell.count
        for row in got.rows
        for column, cell in zip(got.columns, row.cells, strict=True)
        if cell.count
    }
    assert cells == want
    assert got.agreement == pytest.approx(agreement(want))
    assert got.answers == sum(want.values())
    assert [c.key for c in got.columns][-2:] == ["other", "none"]


def check_satisfaction(f, history, care, got):
    for rows, by in (
        (got.satisfaction_by_reason, lambda c: c.reason_id),
        (got.satisfaction_by_category, lambda c: c.category),
    ):
        want = satisfaction(history, care, f, by)
        assert {s.key for s in rows} == set(want)
        for s in rows:
            answers, csat, satisfied, nps, promoters, detractors = want[s.key]
            assert (s.answers, s.promoters, s.detractors) == (answers, promoters, detractors)
            assert s.csat == pytest.approx(csat)
            assert s.satisfied_share == pytest.approx(satisfied)
            assert s.nps == pytest.approx(nps)
    overall = satisfaction(history, care, f, lambda c: "")[""]
    assert got.satisfaction_total.answers == overall[0]
    assert got.satisfaction_total.nps == pytest.approx(overall[3])


def check_winback(f, history, care, got):
    reinstated, by_reason, by_kind = winback(history, care, f)
    got = got.winback

    assert got.reinstated == reinstated
    assert {r.key: r.count for r in got.by_reason} == {k: len(v) for k, v in by_reason.items()}
    assert {r.key: r.count for r in got.by_kind} == {k: len(v) for k, v in by_kind.items()}
    for r in got.by_reason:
        assert r.median_days == pytest.approx(statistics.median(by_reason[r.key]))
    for r in got.by_kind:
        assert r.median_days == pytest.approx(statistics.median(by_kind[r.key]))
    every = [d for days in by_reason.values() for d in days]
    assert got.after_followup == len(every)
    if every:
        assert got.overall.median_days == pytest.approx(statistics.median(every))


def test_the_aftercare_covers_the_awkward_cases(history, care):
    """Guards the recounts above from passing vacuously."""
    f = Filters(None, date(2024, 4, 30), include_reverted=True)
    rows = activity(history, care, f)[("all", "")]
    assert all(rows), rows  # sent, answered, on time, late, not done, upcoming
    cells = matrix(history, care, f)
    assert any(own == "other" for _s, own in cells) and any(own == "none" for _s, own in cells)
    assert any(own == str(history.reasons["retired"].pk) for _s, own in cells)
    assert any(own == str(stated) for stated, own in cells) and any(own != str(stated) for stated, own in cells)
    _n, _by_reason, by_kind = winback(history, care, f)
    assert {"callback", "winback"} <= set(by_kind)
    assert len({month_key(c) for c in history.closures}) > 3


def test_reverted_closures_leave_the_rates_unless_included(history, care):
    reverted = {c.pk for c in history.closures if c.reverted_at}
    surveys_of_reverted = [
        fu for fu in care.followups if fu.closure_id in reverted and fu.sent_at and fu.kind == "survey"
    ]
    assert surveys_of_reverted
    kept = compute(Filters(None, date(2024, 4, 30))).activity_total.sent
    every = compute(Filters(None, date(2024, 4, 30), include_reverted=True)).activity_total.sent
    assert every - kept == len(surveys_of_reverted)
