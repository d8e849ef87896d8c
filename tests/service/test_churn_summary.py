"""The churn-after-service summary (service/churn_summary.py) is kept by every write that can change
it: after tickets opened, resolved, reopened and moved by a merge, cards closed, voided and
reinstated, and a "customer since" changed through the card gate, the stored rows equal a recount
from the tickets and closures, and the day rows equal the rows counted by day."""

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closures import operations as closing
from closures.rules import ClosureChoice
from customers import gate
from customers.models import Customer
from service import churn_summary, operations
from service.models import Category, ChurnDay, ChurnLast, ChurnSpan, Ticket
from tests.factories import ClosureReasonFactory, CustomerFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def assert_summary_is_a_recount():
    cards = Customer.objects.values_list("pk", flat=True)
    recounted = churn_summary.recount(cards)
    assert churn_summary.stored() == recounted
    wanted = Counter({k: n for k, n in churn_summary.day_counts(recounted).items() if n})
    assert churn_summary.stored_days() == wanted


@pytest.fixture
def people(monkeypatch):
    def at(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    agent = UserFactory(username="cs_agent", role="Staff")
    boss = UserFactory(username="cs_boss", role="Manager")
    return agent, boss, at


def open_(card, by, *, when, category="complaint"):
    return operations.open_ticket(
        card,
        by=by,
        category=Category.objects.get_or_create(key=category, defaults={"label_en": category, "label_zh": category})[0],
        subject="问题",
        channel="phone",
        priority="high",
        created_at=when,
    )


def test_operations_closures_merges_and_a_new_customer_since_keep_the_summary_a_recount(people):
    agent, boss, at = people
    reason = ClosureReasonFactory(code="cs-bad", category="service")
    a, b, c = (CustomerFactory(customer_since=date(2025, 1, 1)) for _ in range(3))
    dup = CustomerFactory(customer_since=date(2025, 6, 1))

    at(local(2026, 3, 2, 9, 0))
    first = open_(a, agent, when=local(2026, 3, 2, 9, 0))
    second = open_(a, agent, when=local(2026, 3, 9, 9, 0), category="repair")
    open_(b, agent, when=local(2026, 3, 3, 9, 0))
    open_(dup, agent, when=local(2026, 3, 4, 9, 0), category="billing")
    assert_summary_is_a_recount()
    assert ChurnLast.objects.get(customer=a, group_key="all").last_day == date(2026, 3, 9)

    at(local(2026, 3, 10, 9, 0))
    operations.resolve(first, by=agent, note="好了")
    at(local(2026, 3, 11, 9, 0))
    operations.reopen(first, by=agent, note="又坏了")
    operations.resolve(second, by=agent, note="好了")
    assert_summary_is_a_recount()
    assert ChurnLast.objects.filter(customer=a, group_key="again:yes").exists()

    at(local(2026, 4, 1, 9, 0))
    closing.close_customer(b, ClosureChoice("close", reason), by=boss)  # within 90 days of its ticket
    assert_summary_is_a_recount()
    row = ChurnLast.objects.get(customer=b, group_key="all")
    assert row.last_closed_day == date(2026, 3, 3) and row.closed_at == local(2026, 4, 1, 9, 0)

    at(local(2026, 4, 2, 9, 0))
    closing.reinstate(b, by=boss, note="误操作")
    assert_summary_is_a_recount()
    assert ChurnLast.objects.get(customer=b, group_key="all").closed_at is None

    at(local(2026, 4, 3, 9, 0))
    operations.move_tickets(dup, c, by=boss, note="重复")
    assert_summary_is_a_recount()
    assert not ChurnLast.objects.filter(customer=dup).exists()
    assert ChurnLast.objects.filter(customer=c, group_key=f"cat:{Category.objects.get(key='billing').pk}").exists()

    gate.update_card(c, {"customer_since": date(2024, 5, 1)}, by=boss, source=gate.Source("form"))
    assert_summary_is_a_recount()
    assert ChurnLast.objects.get(customer=c, group_key="all").since_day == date(2024, 5, 1)


def test_a_ticket_after_a_closure_keeps_the_closure_as_a_span(people):
    """A card closed before its last ticket (reinstated, or a ticket written as a raw row) keeps that
    closure in ChurnSpan: it may have been in force at a period's start."""
    agent, boss, at = people
    reason = ClosureReasonFactory(code="cs-price", category="price")
    card = CustomerFactory(customer_since=date(2025, 1, 1))
    at(local(2026, 1, 10, 9, 0))
    closing.close_customer(card, ClosureChoice("close", reason), by=boss)
    at(local(2026, 2, 10, 9, 0))
    closing.reinstate(card, by=boss, note="回来了")
    open_(card, agent, when=local(2026, 2, 11, 9, 0))

    span = ChurnSpan.objects.get(customer=card)
    assert (span.performed_at, span.reverted_at) == (local(2026, 1, 10, 9, 0), local(2026, 2, 10, 9, 0))
    assert span.last_day == date(2026, 2, 11)
    assert_summary_is_a_recount()


def test_an_operation_that_changes_nothing_the_summary_counts_does_not_touch_it(people):
    agent, _boss, at = people
    card = CustomerFactory()
    at(local(2026, 3, 2, 9, 0))
    ticket = open_(card, agent, when=local(2026, 3, 2, 9, 0))

    with CaptureQueriesContext(connection) as queries:
        operations.add_step(ticket, by=agent, kind="reply", content="收到")

    assert not [q for q in queries.captured_queries if "service_churn" in q["sql"]]
    assert_summary_is_a_recount()


def test_rebuild_recounts_what_raw_writes_left_behind():
    card = CustomerFactory(customer_since=date(2025, 1, 1))
    TicketFactory(customer=card, created_at=local(2026, 3, 2, 9, 0))
    Ticket.objects.update(status="resolved")  # behind the summary's back
    ChurnDay.objects.all().delete()

    assert churn_summary.rebuild() == 4  # all, sla:met, again:no, cat:complaint

    assert_summary_is_a_recount()
    assert ChurnLast.objects.filter(customer=card, group_key="sla:met").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tickets_of_one_card_resolved_at_once_leave_the_summary_a_recount(people):
    """Each transaction recounts the card's rows and moves the day counts by the difference. The two
    resolutions lock different tickets; without the card's advisory lock both would start from the
    rows before either and move the card's "not resolved (yet)" and "SLA met" days twice."""
    from tests.concurrency import run_together

    agent, _boss, at = people
    card = CustomerFactory()
    at(local(2026, 3, 2, 9, 0))
    first = open_(card, agent, when=local(2026, 3, 2, 9, 0))
    second = open_(card, agent, when=local(2026, 3, 3, 9, 0), category="repair")
    at(local(2026, 3, 3, 10, 0))

    results = run_together(
        lambda: operations.resolve(first.pk, by=agent, note="好了"),
        lambda: operations.resolve(second.pk, by=agent, note="好了"),
    )

    assert all(isinstance(r, Ticket) for r in results), results
    assert_summary_is_a_recount()
    assert not ChurnLast.objects.filter(customer=card, group_key="sla:open").exists()
    assert ChurnDay.objects.get(group_key="sla:met", day=date(2026, 3, 3)).customers == 1
