"""On Closure analytics: of the closures with a service reason (reason category "service"), the
share whose customer's last ticket before the closure missed its SLA.

One aggregate over the dashboard's closures of that category, grouped by what each closure's
lookup found: its customer's last ticket before the closure, one index-only probe into the
ticket (customer, created_at, id) index, which carries the breach flags (service migration 0007).
Computed from the tickets at read time rather than stored on the closure, because a ticket's
breach flags can still change after the closure (an open ticket resolved late, an SLA changed by a
Manager, a back-dated ticket imported), and the drill-down (``svc=breached``, service_links.py)
selects the closures with the same lookup. Cost at 250,000 closures and 2,000,000 tickets (about
17,600 service closures in the last 12 months; bench key ``closure_dashboard_service_part``):
80 ms, p95 98 ms (559 and 643 ms before, with two heap lookups per closure). The dashboard
loads it by htmx after the page (``?part=service``), like the follow-up and improvement panels,
so its key figures keep their bench time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from .filters import ClosureFilter
from .service_links import last_ticket_breached

SERVICE_CATEGORY = "service"


@dataclass
class ServiceClosures:
    closures: int  # closures with a service reason
    with_ticket: int  # ... whose customer had a ticket before the closure
    breached: int  # ... whose last ticket before it missed its SLA

    @property
    def share(self) -> float | None:
        return self.breached / self.closures if self.closures else None

    @property
    def share_of_ticketed(self) -> float | None:
        return self.breached / self.with_ticket if self.with_ticket else None


def compute(fs: ClosureFilter) -> ServiceClosures:
    rows = fs.qs.filter(category=SERVICE_CATEGORY).order_by().annotate(svc_missed=last_ticket_breached())
    # Grouped by the looked-up value, so each closure's probe runs once (three filtered counts
    # would repeat it per count).
    found = dict(rows.values_list("svc_missed").annotate(n=Count("id")).values_list("svc_missed", "n"))
    return ServiceClosures(
        closures=sum(found.values()),
        with_ticket=found.get(True, 0) + found.get(False, 0),
        breached=found.get(True, 0),
    )
