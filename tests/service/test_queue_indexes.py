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
        ("team", {}, "ticket_team_open"),
        ("unassigned", {}, "ticket_unassigned_open"),
        ("waiting", {}, "ticket_status_created"),
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
