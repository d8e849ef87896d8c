"""Each queue reads an index in the order it shows (PostgreSQL): the plans with sequential scans and
sorts made unattractive name the index meant for them, so a query that drifts from its index's
expression or predicate fails here rather than at two million tickets."""

import pytest
from django.db import connection

from service import queues
from tests.factories import TicketFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plan(view, user, filters) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    return queues.queue(view, user, filters)[:26].explain()


@pytest.mark.parametrize(
    ("view", "filters", "index"),
    [
        ("mine", {}, "ticket_assignee_open"),
        ("team", {}, "ticket_team_open"),
        ("unassigned", {}, "ticket_unassigned_open"),
        ("waiting", {}, "ticket_status_created"),
        ("overdue", {}, "ticket_overdue_open"),
        ("all", {}, "ticket_created"),
        ("all", {"o": "due"}, "ticket_due"),
        ("all", {"o": "-priority"}, "ticket_priority_rank"),
        ("all", {"o": "number"}, "service_ticket_number"),
        ("all", {"customer": 1}, "ticket_customer_created"),
    ],
)
def test_each_queue_reads_its_index(desk, view, filters, index):
    TicketFactory(team=desk["desk"])
    assert index in plan(view, desk["agent"], filters)


def test_the_overdue_queue_skips_tickets_not_yet_due_inside_its_index(desk):
    """The due-time condition is checked on the index's entries (an index condition), not on rows."""
    TicketFactory(team=desk["desk"])
    found = plan("overdue", desk["agent"], {})
    assert "Index Cond" in found and "Filter" not in found.split("ticket_overdue_open")[1].split("->")[0]


def test_the_cards_service_panel_reads_its_tickets_in_order_from_its_index(desk):
    from service import card_panel
    from service.models import Ticket

    TicketFactory(customer=desk["card"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    rows = card_panel.tickets_of(desk["card"])
    assert isinstance(rows.first(), Ticket)
    found = rows.explain()
    assert "ticket_customer_panel" in found and "Sort" not in found
