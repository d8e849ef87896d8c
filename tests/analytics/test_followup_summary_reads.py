"""The follow-up panels read the per-closure summary (followups/summary.py): the cases the oracle
data set does not hold — pending callbacks of one closure on both sides of "now", and a card filter
the summary has no column for (the closures are then narrowed to those the filter set selects)."""

from datetime import timedelta

from django.utils import timezone

from analytics import followups
from analytics.filters import ClosureFilter
from followups.models import Kind
from tests.factories import ClosureFactory, CustomerFactory, TagFactory

from .followup_history import answer, followup


def figures(**params):
    fs = ClosureFilter({"period": "all", **params})
    assert fs.is_valid(), fs.errors
    return followups.compute(fs)


def test_pending_callbacks_of_one_closure_before_and_after_now_count_one_not_done_and_one_upcoming(db):
    now = timezone.now()
    closure = ClosureFactory(customer=CustomerFactory(), performed_at=now - timedelta(days=10))
    followup(closure, Kind.CALLBACK, now - timedelta(days=1))  # pending, past due: not done
    followup(closure, Kind.CALLBACK, now - timedelta(days=2))  # pending, past due: not done
    followup(closure, Kind.CALLBACK, now + timedelta(days=1))  # pending, not yet due: upcoming
    other = ClosureFactory(customer=CustomerFactory(), performed_at=now - timedelta(days=10))
    followup(other, Kind.CALLBACK, now + timedelta(days=3))

    total = figures().activity_total
    assert (total.not_done, total.upcoming, total.on_time, total.late) == (2, 2, 0, 0)
    by_month = figures().by_month
    assert sum(a.not_done for a in by_month) == 2 and sum(a.upcoming for a in by_month) == 2


def test_a_card_filter_narrows_the_summary_to_the_filtered_closures(db):
    now = timezone.now()
    tag = TagFactory()
    tagged = CustomerFactory()
    tagged.tags.add(tag)
    for card, csat in ((tagged, 5), (CustomerFactory(), 1)):
        closure = ClosureFactory(customer=card, performed_at=now - timedelta(days=5))
        fu = followup(closure, Kind.SURVEY, now - timedelta(days=4), state="sent", sent_at=now - timedelta(days=4))

        answer(fu, csat=csat)

    assert figures().satisfaction_total.csat_n == 2
    narrowed = figures(tag=tag.pk)
    assert (narrowed.satisfaction_total.csat_n, narrowed.satisfaction_total.csat) == (1, 5)
    assert narrowed.activity_total.sent == 1
