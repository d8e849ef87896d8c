"""Churn after service read from the summary kept by the writes (service/churn_summary.py): for a
period that runs to today and no ticket filter, every figure comes from the summary and equals both
a plain recount of the raw rows and the one pass over the period's tickets; otherwise the page
keeps the one pass."""

from datetime import date, timedelta

import pytest

from analytics import service_churn
from analytics.service_filters import ServiceFilter
from closures import operations as closing
from closures.rules import ClosureChoice
from tests.factories import ClosureReasonFactory, CustomerFactory, TicketFactory

from .service_history import local
from .test_service_churn_recount import figures, recount

pytestmark = pytest.mark.django_db
TODAY = date(2026, 8, 1)  # the service world's today


def service_filter(first: date | None, last: date = TODAY, **params) -> ServiceFilter:
    if first is None:
        return ServiceFilter({"period": "all", **params}, today=TODAY)
    query = {"period": "custom", "start": first.isoformat(), "end": last.isoformat(), **params}
    return ServiceFilter(query, today=TODAY)


def one_pass(sf: ServiceFilter, monkeypatch) -> service_churn.Counted:
    with monkeypatch.context() as m:
        m.setattr(service_churn, "_from_summary", lambda sf: None)
        return service_churn.counted(sf)


@pytest.fixture
def world(service_world, monkeypatch):
    """The month of service, and the cases only the group without a ticket tells apart."""
    boss = service_world.manager
    reason = ClosureReasonFactory(code="sum-price", category="price")

    def at(moment):
        monkeypatch.setattr("django.utils.timezone.now", lambda: moment)

    back = CustomerFactory(customer_since=date(2025, 1, 1))  # closed before March, back in it, a ticket
    at(local(2026, 2, 10, 10, 0))
    closing.close_customer(back, ClosureChoice("close", reason), by=boss)
    at(local(2026, 3, 12, 10, 0))
    closing.reinstate(back, by=boss, note="回来了")
    TicketFactory(customer=back, created_at=local(2026, 3, 13, 10, 0))
    newer = CustomerFactory(customer_since=date(2026, 3, 10))  # a customer only since the period began
    TicketFactory(customer=newer, created_at=local(2026, 3, 14, 10, 0))
    closed_with_ticket = CustomerFactory(customer_since=date(2025, 1, 1))  # a ticket, then closed
    TicketFactory(customer=closed_with_ticket, created_at=local(2026, 3, 15, 10, 0), status="resolved")
    at(local(2026, 3, 30, 10, 0))
    closing.close_customer(closed_with_ticket, ClosureChoice("close", reason), by=boss)
    at(local(2026, 8, 1, 12, 0))
    return service_world


RUNNING_TO_TODAY = [date(2026, 3, 1), date(2026, 2, 15), date(2026, 3, 20), date(2026, 7, 1)]


@pytest.mark.parametrize("first", RUNNING_TO_TODAY)
def test_a_period_running_to_today_is_read_from_the_summary_and_equals_a_recount(world, first, monkeypatch):
    sf = service_filter(first)

    assert service_churn._from_summary(sf) is not None
    assert figures(first, TODAY) == recount(first, TODAY)
    assert service_churn.counted(sf) == one_pass(sf, monkeypatch)


def test_all_time_is_read_from_the_summary_too(world, monkeypatch):
    sf = service_filter(None)

    assert service_churn._from_summary(sf) is not None
    assert service_churn.counted(sf) == one_pass(sf, monkeypatch)


def test_the_cases_of_the_group_without_a_ticket_are_counted(world):
    """March to today: the card back from a closure before March and the card that became a customer
    in March had tickets but were not active customers on 1 March; the card closed after its March
    ticket is among those with a ticket, not among those without."""
    counted = service_churn.counted(service_filter(date(2026, 3, 1)))
    without = recount(date(2026, 3, 1), TODAY)[("none", "none")]

    assert figures(date(2026, 3, 1), TODAY)[("none", "none")] == without
    assert counted.closed_without == without[1]


@pytest.mark.parametrize(
    "sf",
    [
        lambda w: service_filter(date(2026, 3, 1), date(2026, 7, 31)),  # ends before today
        lambda w: service_filter(date(2026, 3, 1), category=str(w.categories["repair"].pk)),  # a ticket filter
        lambda w: service_filter(date(2026, 3, 1), channel="wechat"),
    ],
)
def test_other_periods_and_ticket_filters_keep_the_one_pass(world, sf):
    assert service_churn._from_summary(sf(world)) is None


def test_a_ticket_dated_after_today_sends_the_figures_back_to_the_one_pass(world, monkeypatch):
    TicketFactory(customer=world.cards["I"], created_at=local(2026, 8, 20, 10, 0))
    sf = service_filter(date(2026, 3, 1))

    assert service_churn._from_summary(sf) is None
    assert figures(date(2026, 3, 1), TODAY) == recount(date(2026, 3, 1), TODAY)


def test_a_period_starting_today_counts_only_todays_tickets(world, monkeypatch):
    TicketFactory(customer=world.cards["I"], created_at=local(2026, 8, 1, 9, 0))
    sf = service_filter(TODAY)

    assert service_churn._from_summary(sf).groups[("all", None)] == (1, 0)
    assert service_churn.counted(sf) == one_pass(sf, monkeypatch)
    assert figures(TODAY, TODAY) == recount(TODAY, TODAY)


def test_yesterday_ends_before_today(world):
    assert service_churn._from_summary(service_filter(TODAY - timedelta(days=1), TODAY - timedelta(days=1))) is None
