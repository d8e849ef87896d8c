"""Churn after service: do customers who had a ticket leave more often than those who had none?

    closure rate after a ticket = customers who had a ticket opened in the period (matching the
        ticket filters) and whose card was closed (the "close" action, not reverted) within 90 days
        after one of those tickets was opened ÷ customers who had such a ticket;
    closure rate without a ticket = customers active at the period's start (customers before its
        first day, less the cards with a closure in force then) who had no ticket at all in the
        period, and whose card was closed within 90 days after the period's start ÷ those customers.

The first is broken down by the ticket's category, by SLA met or missed (a ticket misses when its
first response or its resolution was late; it met its SLA when it was resolved without either;
open and cancelled tickets without a late answer are "not resolved (yet)") and by reopened or not;
a customer with tickets on both sides of a breakdown counts on both. Tickets opened less than 90
days ago have not had their 90 days yet: the page says so. "All time" has no start, so no comparison group.

Why computed from the ticket and closure tables rather than kept in a summary: a customer counts
once per group however many tickets they had, and a distinct count cannot be summed from daily
rows; and whether a card closed within 90 days changes when a closure (floor 3) happens, long
after the ticket operations ran. The queries are index-backed (tickets by ``created_at``, their
closures by the customer's open-closure index and performed_at) and the dashboard loads this
panel by htmx after the page (``?part=churn``), so its key figures do not wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, Count, Exists, ExpressionWrapper, OuterRef, Q, Value, When
from django.db.models import DateTimeField as DateTimeOutput
from django.utils import timezone
from django.utils.translation import gettext

from closures.models import Action, Closure
from customers.counts import since_before_each
from service.models import Category, Status, Ticket

from .service_filters import ServiceFilter

WINDOW = timedelta(days=90)
RESOLVED = (Status.RESOLVED, Status.CLOSED)


@dataclass
class Rate:
    key: str
    label: str
    customers: int
    closed: int
    link: dict  # the closure list's drill-down parameters (analytics/service_links.py)

    @property
    def rate(self) -> float | None:
        return self.closed / self.customers if self.customers else None


@dataclass
class ServiceChurn:
    with_ticket: Rate
    without_ticket: Rate | None  # None for "all time"
    by_category: list[Rate]
    by_sla: list[Rate]
    by_reopened: list[Rate]
    window_open: bool  # the period ends less than 90 days ago: some tickets have not had their 90 days


def closed_within(window=WINDOW, *, start_field: str = "created_at"):
    """Exists: the ticket's customer was closed (not reverted) within ``window`` after the ticket opened."""
    until = ExpressionWrapper(OuterRef(start_field) + Value(window), output_field=DateTimeOutput())
    return Exists(
        Closure.objects.filter(
            customer=OuterRef("customer"),
            action=Action.CLOSE,
            reverted_at__isnull=True,
            performed_at__gte=OuterRef(start_field),
            performed_at__lt=until,
        )
    )


def period_tickets(sf: ServiceFilter):
    period = sf.dates
    rows = Ticket.objects.using(sf.db).order_by().filter(created_at__lt=period.end, **sf.ticket_filters())
    return rows.filter(created_at__gte=period.start) if period.start is not None else rows


def _counted(rows) -> list[dict]:
    return rows.annotate(
        customers=Count("customer", distinct=True),
        closed=Count("customer", distinct=True, filter=Q(closed90=True)),
    )


def compute(sf: ServiceFilter) -> ServiceChurn:
    period = sf.dates
    link = {
        "svc": "after",
        "svc_from": period.first.isoformat() if period.first else "",
        "svc_to": period.last.isoformat(),
    }
    link.update({f"svc_{k}": v for k, v in sf.params().items() if k in ("category", "channel", "team", "priority")})
    tickets = period_tickets(sf).annotate(closed90=closed_within())
    overall = tickets.aggregate(
        customers=Count("customer", distinct=True), closed=Count("customer", distinct=True, filter=Q(closed90=True))
    )
    with_ticket = Rate("all", gettext("Customers with a ticket"), overall["customers"], overall["closed"], link)
    labels = {c.pk: c.label for c in Category.objects.using(sf.db).all()}
    by_category = [
        Rate(
            str(r["category_id"]),
            labels.get(r["category_id"], ""),
            r["customers"],
            r["closed"],
            {**link, "svc_category": r["category_id"]},
        )
        for r in _counted(tickets.values("category_id"))
    ]
    by_category.sort(key=lambda r: (-r.customers, r.label))
    missed = Case(
        When(Q(first_response_breached=True) | Q(resolution_breached=True), then=Value("missed")),
        When(status__in=RESOLVED, then=Value("met")),
        default=Value("open"),
    )
    sla_labels = {"met": gettext("SLA met"), "missed": gettext("SLA missed"), "open": gettext("Not resolved (yet)")}
    by_sla = {
        r["sla"]: Rate(r["sla"], sla_labels[r["sla"]], r["customers"], r["closed"], {**link, "svc_sla": r["sla"]})
        for r in _counted(tickets.annotate(sla=missed).values("sla"))
    }
    again = Case(When(reopen_count__gt=0, then=Value("yes")), default=Value("no"))
    reopen_labels = {"yes": gettext("Reopened"), "no": gettext("Not reopened")}
    by_reopened = {
        r["again"]: Rate(
            r["again"], reopen_labels[r["again"]], r["customers"], r["closed"], {**link, "svc_reopened": r["again"]}
        )
        for r in _counted(tickets.annotate(again=again).values("again"))
    }
    return ServiceChurn(
        with_ticket=with_ticket,
        without_ticket=_without_ticket(sf) if period.start is not None else None,
        by_category=by_category,
        by_sla=[by_sla[k] for k in ("met", "missed", "open") if k in by_sla],
        by_reopened=[by_reopened[k] for k in ("no", "yes") if k in by_reopened],
        window_open=period.end + WINDOW > timezone.now(),
    )


def no_ticket_closures(db: str, start, end):
    """Closures ("close", in force) within 90 days after ``start`` of cards that were customers
    before ``start``'s day and had no ticket from ``start`` to ``end``."""
    tickets = Ticket.objects.using(db).filter(customer=OuterRef("customer"), created_at__gte=start, created_at__lt=end)
    in_force_before = (
        Closure.objects.using(db)
        .filter(customer=OuterRef("customer"), performed_at__lt=start)
        .filter(Q(reverted_at__isnull=True) | Q(reverted_at__gte=start))
    )
    return (
        Closure.objects.using(db)
        .filter(action=Action.CLOSE, reverted_at__isnull=True, performed_at__gte=start)
        .filter(performed_at__lt=start + WINDOW, customer__customer_since__lt=start.date())
        .exclude(Exists(tickets))
        .exclude(Exists(in_force_before))
    )


def _without_ticket(sf: ServiceFilter) -> Rate:
    """Customers active at the start who had no ticket in the period, and those of them closed
    within 90 days of the start. Active at the start: customers before its first day (the cached
    counts of customers/counts.py) less closures in force at the start; those with a ticket are
    counted from the period's tickets (any ticket: the filters narrow the ticket side only)."""
    period, db = sf.dates, sf.db
    before = since_before_each([period.first], using=db)[0]
    in_force = (
        Closure.objects.using(db)
        .filter(performed_at__lt=period.start)
        .filter(Q(reverted_at__isnull=True) | Q(reverted_at__gte=period.start))
        .count()
    )
    forced_then = (
        Closure.objects.using(db)
        .filter(customer=OuterRef("customer"), performed_at__lt=period.start)
        .filter(Q(reverted_at__isnull=True) | Q(reverted_at__gte=period.start))
    )
    had_ticket = (
        Ticket.objects.using(db)
        .filter(created_at__gte=period.start, created_at__lt=period.end, customer__customer_since__lt=period.first)
        .exclude(Exists(forced_then))
        .aggregate(n=Count("customer", distinct=True))["n"]
    )
    customers = max(0, before - in_force - had_ticket)
    closed = no_ticket_closures(db, period.start, period.end).aggregate(n=Count("customer", distinct=True))["n"]
    link = {"svc": "none", "svc_from": period.first.isoformat(), "svc_to": period.last.isoformat()}
    return Rate("none", gettext("Customers without a ticket"), customers, closed, link)


__all__ = ["Rate", "ServiceChurn", "compute", "closed_within", "no_ticket_closures"]
