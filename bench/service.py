"""The service figures of ``manage.py bench`` (issue 20): the ticket queues, the ticket page, the card
with its service panel and the service dashboard, on the seeded tickets (bench/scale/tickets.py).

Each page is reached by its URL name; a name that is not installed (the part of the app that
serves it is not there yet) is reported as "not installed: <name>", not measured, and the
benchmark goes on. A mixin of :class:`bench.measure.Bench`.
"""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from customers import panels

from .database import sample
from .lib import Unavailable

TARGETS = {
    "ticket_queue_mine": 40,
    "ticket_queue_team": 40,
    "ticket_queue_overdue": 40,
    "ticket_queue_all_filtered": 40,
    "ticket_page": 40,
    "card_with_service_panel": 40,
    "service_dashboard": 150,
    "service_dashboard_12m": 150,
    "service_churn": 150,
    "closure_dashboard_service_part": 150,
}
TICKET_FACTOR = 3  # the alternative for queues and the ticket page: at most 3× the reference page
OPEN = ("new", "assigned", "in_progress", "waiting")


def installed(name: str, *args) -> str:
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        raise Unavailable(f"not installed: {name}") from None


class ServiceFigures:
    """The figures; ``STAFF_USER`` (the busiest in the customer service team) and ``MANAGER_USER`` read them."""

    def service_figures(self, staff_user: str, manager_user: str) -> None:
        if not any(self.wanted(key) for key in TARGETS):
            return
        count = self.runs + self.warmup + 2
        self.ticket_queues(staff_user, manager_user, count)
        self.ticket_page(count)
        self.card_with_service_panel(count)
        self.service_dashboard(manager_user)

    def ticket_queues(self, staff_user: str, manager_user: str, count: int) -> None:
        pages = [
            ("ticket_queue_mine", f"Tickets: my queue ({staff_user})", staff_user, {"view": "mine"}),
            ("ticket_queue_team", f"Tickets: my team's queue ({staff_user})", staff_user, {"view": "team"}),
            ("ticket_queue_overdue", "Tickets: overdue (Manager)", manager_user, {"view": "overdue"}),
        ]
        for key, label, username, params in pages:
            self.timed(
                key, label, lambda i, u=username, p=params: self.get(installed("service:queue"), self.client_of(u), **p)
            )
        if not self.wanted("ticket_queue_all_filtered"):
            return
        # Every filter at once, as a Manager narrowing the whole queue: one card's open tickets of one
        # category, priority, team, assignee and channel opened in the last 12 months, the card found
        # by its customer number (the customer search).
        since = timezone.localdate() - timedelta(days=365)
        rows = sample(
            """SELECT t.status, t.category_id, t.priority, t.team_id, t.assignee_id, t.channel, c.customer_no
               FROM service_ticket t TABLESAMPLE SYSTEM (1) JOIN customers_customer c ON c.id = t.customer_id
               WHERE t.status IN ('new', 'assigned', 'in_progress', 'waiting') AND t.assignee_id IS NOT NULL
                 AND t.created_at >= %s""",
            [since],
            limit=max(count, 50),
        ) or [("in_progress", "", "normal", "", "", "phone", "")]

        def filtered(i):
            status, category, priority, team, assignee, channel, number = rows[i % len(rows)]
            params = {"view": "all", "status": status, "category": category, "priority": priority, "team": team,
                      "assignee": assignee, "channel": channel, "opened_from": since.isoformat(),
                      "opened_to": timezone.localdate().isoformat(), "q": number}  # fmt: skip
            return self.get(installed("service:queue"), self.client_of(manager_user), **params)

        self.timed("ticket_queue_all_filtered", "Tickets: all, every filter and a customer (Manager)", filtered)

    def ticket_page(self, count: int) -> None:
        if not self.wanted("ticket_page"):
            return
        rows = sample(
            """SELECT s.ticket_id FROM service_step s TABLESAMPLE SYSTEM (1)
               GROUP BY s.ticket_id HAVING count(*) >= 5""",
            limit=max(count, 50),
        )
        if not rows:
            rows = sample("SELECT ticket_id FROM service_step GROUP BY 1 ORDER BY count(*) DESC", limit=count)
        pick = lambda i: rows[i % len(rows)][0] if rows else 0  # noqa: E731
        self.timed(
            "ticket_page",
            "Ticket page (a ticket with 5-6 steps)",
            lambda i: self.get(installed("service:ticket", pick(i))),
        )
        self.extra["ticket_page_steps_at_least"] = 5

    def card_with_service_panel(self, count: int) -> None:
        """The card of an active customer with many tickets; its query count must be that of a card without any
        (the panel reads in a fixed number of queries).

        Cards never closed on both sides: a closed card's page also reads its closure, and the timeline of a
        card closed and reinstated reads the closure reasons of its entries (one query more, whatever its
        tickets: the 14 queries against 13 of an earlier run were that)."""
        if not self.wanted("card_with_service_panel"):
            return
        never_closed = (
            "c.status = 'active' AND NOT EXISTS (SELECT 1 FROM closures_closure x WHERE x.customer_id = c.id)"
        )
        busy = sample(
            f"""SELECT t.customer_id, count(*) FROM service_ticket t JOIN customers_customer c ON c.id = t.customer_id
               WHERE {never_closed} GROUP BY 1 ORDER BY 2 DESC""",
            limit=max(count, 20),
        )
        quiet = sample(
            f"""SELECT c.id FROM customers_customer c TABLESAMPLE SYSTEM (1)
               WHERE {never_closed} AND NOT EXISTS (SELECT 1 FROM service_ticket t WHERE t.customer_id = c.id)""",
            limit=5,
        )
        card = lambda pk: reverse("customers:card", args=[pk])  # noqa: E731

        def page(i):
            if "service" not in panels._PANELS:  # noqa: SLF001 (the registry has no public list)
                raise Unavailable("not installed: the card's service panel (customers.panels 'service')")
            if not busy:
                raise Unavailable("no tickets loaded: run seed_scale (version 3)")
            return self.get(card(busy[i % len(busy)][0]))

        measure = self.timed("card_with_service_panel", "Customer card with many tickets (service panel)", page)
        if not measure or not measure.samples or not quiet:
            return
        with CaptureQueriesContext(connection) as captured:
            self.get(card(quiet[0][0]))()
        without = len(captured.captured_queries)
        most = max(n for _pk, n in busy)
        self.extra["card_with_service_panel_tickets"] = most
        self.extra["card_without_tickets_queries"] = without
        same = measure.queries == without
        words = "same as" if same else "DIFFERS from"
        measure.note = "; ".join(filter(None, [measure.note, f"{measure.queries} queries with up to {most:,} tickets, "
                                               f"{words} a card without tickets ({without})"]))  # fmt: skip
        if not same:
            self.say(f"  CHECK FAILED: the card with tickets ran {measure.queries} queries, without {without}")

    def service_dashboard(self, manager_user: str) -> None:
        today = timezone.localdate()
        self.timed(
            "service_dashboard",
            "Service dashboard (default period: last 12 months)",
            lambda i: self.get(installed("analytics:service"), self.client_of(manager_user)),
        )
        self.timed(
            "service_dashboard_12m",
            "Service dashboard, custom 12 months cutting a month at each end",
            lambda i: self.get(
                installed("analytics:service"),
                self.client_of(manager_user),
                period="custom",
                start=(today - timedelta(days=360)).isoformat(),
                end=(today - timedelta(days=3)).isoformat(),
            ),
        )
        self.timed(
            "service_churn",
            "Service dashboard: churn after service (its htmx part, last 12 months)",
            lambda i: self.get(installed("analytics:service"), self.client_of(manager_user), part="churn"),
        )
        self.timed(
            "closure_dashboard_service_part",
            "Closure analytics: the service part (its htmx part, last 12 months)",
            lambda i: self.get(installed("analytics:dashboard"), self.client_of(manager_user), part="service"),
        )
