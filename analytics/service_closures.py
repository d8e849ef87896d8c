"""On Closure analytics: of the closures with a service reason (reason category "service"), the
share whose customer's last ticket before the closure missed its SLA.

One aggregate over the dashboard's closures of that category, each looking up its customer's last
ticket before the closure through the ticket (customer, created_at) index: one index probe per
service closure. The dashboard loads it by htmx after the page (``?part=service``), like the
follow-up and improvement panels, so its key figures keep their bench time.
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
