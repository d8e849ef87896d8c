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

How it is computed. For a period that runs to today without a ticket filter (every preset, and
custom dates ending today), from the summary the ticket and closure writes keep
(service/churn_summary.py, ``_from_summary``): a customer had a ticket of a group in such a period
exactly when their last ticket of the group lies in it, so each group's customers, and those of
them closed within 90 days of such a ticket, are sums of the group's day rows from the first day
on. The group without a ticket takes, from the same summary, the customers with a ticket who were
not customers yet at the start (an index range) or had a closure in force then (the few
``ChurnSpan`` rows), and of the cards closed within 90 days of the start those with a ticket in the
period. At a million cards and two million tickets (bench key ``service_churn``): about 95 ms
(p95 120 ms) instead of 1.2 s.

Otherwise (a ticket filter, or a period ending before today, or a ticket dated after it), one
pass: whether a ticket's card was closed within 90 days is stored on the ticket
(``Ticket.closed_within_90``, kept by the closure writes and the ticket writes that can change it:
service/churn_flag.py, closures/ticket_flags.py), so no figure probes the closures per ticket.
Then one statement (``counted``) reads the period's tickets once: per customer, the bits of the
groups they had a matching ticket in and of those whose ticket was followed by a closure
(BIT_OR), joined by hash to the cards that became customers after the first day and to the
closures in force at the start (what the group without a ticket needs), and the closures after
the start of the customers without a ticket counted against the same customers. The drill-down
lists (analytics/service_links.py) select the same customers and closures. That pass reads about a
million tickets for a year at that scale: 1.2 s.

The dashboard loads this panel by htmx after the page (``?part=churn``), so its key figures do
not wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import connections
from django.db.models import Aggregate, BigIntegerField, Case, Count, Exists, OuterRef, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext

from closures.models import Action, Closure
from customers.counts import since_before_each
from customers.models import Customer
from service.churn_summary import ALL
from service.models import Category, ChurnDay, ChurnLast, ChurnSpan, Status, Ticket

from . import churn, population, tallied
from .service_filters import ServiceFilter

WINDOW = timedelta(days=90)
RESOLVED = (Status.RESOLVED, Status.CLOSED)
BITS = 62  # groups per mask column (a signed 64-bit integer)


class BitOr(Aggregate):
    """BIT_OR: PostgreSQL's own; on SQLite the aggregate analytics/apps.py registers on each connection."""

    function = "BIT_OR"
    output_field = BigIntegerField()


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


def period_tickets(sf: ServiceFilter, *, filtered: bool = True):
    """The tickets opened in the period (matching the dashboard's ticket filters unless ``filtered`` is off)."""
    period = sf.dates
    rows = Ticket.objects.using(sf.db).order_by().filter(created_at__lt=period.end, **sf.card_filters())
    rows = rows.filter(**sf.ticket_filters()) if filtered else rows
    return rows.filter(created_at__gte=period.start) if period.start is not None else rows


def in_force_at(db: str, start, scope=None):
    """Closures in force at ``start``: performed before it and not reverted by then (of the cards
    of the ``scope``'s owners only, when given: ``Closure.card_owner``, the card's owner now)."""
    rows = Closure.objects.using(db).filter(performed_at__lt=start)
    if scope is not None:
        rows = rows.filter(card_owner_id__in=scope)
    return rows.filter(Q(reverted_at__isnull=True) | Q(reverted_at__gte=start))


def _groups(sf: ServiceFilter) -> list[tuple[str, object, Q]]:
    """The breakdowns' groups, as (breakdown, key, which tickets): SLA first, then reopened, then the
    categories. A ticket is in exactly one group of each breakdown."""
    missed = Q(first_response_breached=True) | Q(resolution_breached=True)
    groups = [
        ("sla", "missed", missed),
        ("sla", "met", ~missed & Q(status__in=RESOLVED)),
        ("sla", "open", ~missed & ~Q(status__in=RESOLVED)),
        ("again", "yes", Q(reopen_count__gt=0)),
        ("again", "no", Q(reopen_count=0)),
    ]
    categories = Category.objects.using(sf.db).order_by("pk").values_list("pk", flat=True)
    return groups + [("category", pk, Q(category_id=pk)) for pk in categories]


def _mask(groups) -> Case | Value:
    """The bits of the groups a ticket is in (one bit per group of ``groups``, at most BITS of them)."""
    mask = None
    for breakdown in dict.fromkeys(g[0] for g in groups):
        whens = [When(q, then=Value(1 << bit)) for bit, (b, _k, q) in enumerate(groups) if b == breakdown]
        part = Case(*whens, default=Value(0), output_field=BigIntegerField())
        mask = part if mask is None else mask.bitor(part)
    return mask


@dataclass
class Counted:
    groups: dict  # (breakdown, key) -> (customers, closed); ("all", None) for every ticket that matches
    had_ticket: int | None  # customers active at the start with any ticket in the period (None: no start)
    closed_without: int | None  # the customers of no_ticket_closures (None: no start)


def counted(sf: ServiceFilter) -> Counted:
    """The customers of each group, and of them those closed within 90 days of such a ticket, in one
    pass over the period's tickets; with the customers active at the period's start who had any ticket.

    Per customer: the bits of every group they had a matching ticket in (``m``), and of every group
    they had a matching ticket in whose card was closed within 90 days of it (``c``, from the
    ticket's ``closed_within_90``); a ticket that does not match the filters has no bits, but its
    customer still had a ticket. With a start, each customer is joined (hash joins) to the cards
    that became customers on or after the first day and to the closures in force at the start: the
    rest were active then. Then the customers are counted per combination of masks (a few thousand),
    and each combination adds to the groups of its bits: a customer counts once per group, as a
    distinct count would have it.
    """
    summarised = _from_summary(sf)
    if summarised is not None:
        return summarised
    period, db = sf.dates, sf.db
    groups = _groups(sf)
    chunks = [groups[i : i + BITS] for i in range(0, len(groups), BITS)]
    matching = Q(**sf.ticket_filters())
    aggregates = {}
    for n, chunk in enumerate(chunks):
        mask = _mask(chunk)
        if matching:
            mask = Case(When(matching, then=mask), default=Value(0), output_field=BigIntegerField())
        aggregates[f"m{n}"] = BitOr(mask)
        aggregates[f"c{n}"] = BitOr(Case(When(closed_within_90=True, then=mask), default=Value(0)))
    per_customer = period_tickets(sf, filtered=False).values("customer_id").annotate(**aggregates)
    sql, params = per_customer.query.sql_with_params()
    columns = ", ".join(f"per.{name}" for name in aggregates)
    if period.start is None:
        statement = f"SELECT {columns}, 0, COUNT(*), 0 FROM ({sql}) per GROUP BY {columns}"
    else:
        newer = Customer.objects.using(db).order_by().filter(customer_since__gte=period.first, **sf.card_filters(""))
        newer_sql, newer_params = newer.values("id").query.sql_with_params()
        closed = in_force_at(db, period.start, sf.scope).order_by().values("customer_id").distinct()
        closed_sql, closed_params = closed.query.sql_with_params()
        window = _closed_after_start(db, period.start, period.first, sf.scope).values("customer_id")
        window_sql, window_params = window.query.sql_with_params()
        active = "CASE WHEN newer.id IS NULL AND closed.customer_id IS NULL THEN 1 ELSE 0 END"
        # The closures of no_ticket_closures, counted here against the customers of the pass.
        without = (
            f"SELECT COUNT(DISTINCT w.customer_id) FROM ({window_sql}) w "
            "WHERE NOT EXISTS (SELECT 1 FROM per p WHERE p.customer_id = w.customer_id) "
            "AND NOT EXISTS (SELECT 1 FROM closed k WHERE k.customer_id = w.customer_id)"
        )
        statement = (
            f"WITH per AS ({sql}), closed AS ({closed_sql}) "
            f"SELECT {columns}, {active}, COUNT(*), ({without}) FROM per "
            f"LEFT JOIN ({newer_sql}) newer ON newer.id = per.customer_id "
            "LEFT JOIN closed ON closed.customer_id = per.customer_id "
            f"GROUP BY {columns}, {active}"
        )
        params = (*params, *closed_params, *window_params, *newer_params)
    with connections[db].cursor() as cursor:
        cursor.execute(statement, params)
        combinations = cursor.fetchall()
    if period.start is None:
        closed_without = None
    elif combinations:
        closed_without = combinations[0][-1]
    else:  # no ticket at all in the period
        without = no_ticket_closures(db, period.start, period.end, sf.scope)
        closed_without = without.aggregate(n=Count("customer", distinct=True))["n"]
    found, had_ticket = {("all", None): [0, 0]}, 0
    for row in combinations:
        active, n = row[-3], row[-2]
        had_ticket += n if active else 0
        if not row[0]:
            continue  # no matching ticket (every matching one has an SLA bit, in the first mask)
        found[("all", None)][0] += n
        found[("all", None)][1] += n if row[1] else 0
        for k, chunk in enumerate(chunks):
            having, closed = row[2 * k], row[2 * k + 1]
            for bit, (breakdown, key, _q) in enumerate(chunk):
                if having >> bit & 1:
                    counts = found.setdefault((breakdown, key), [0, 0])
                    counts[0] += n
                    counts[1] += n if closed >> bit & 1 else 0
    had_ticket = had_ticket if period.start is not None else None
    return Counted({k: tuple(v) for k, v in found.items()}, had_ticket, closed_without)


def _from_summary(sf: ServiceFilter) -> Counted | None:
    """The same figures from the summary kept by the ticket and closure writes
    (service/churn_summary.py), when it can answer: no ticket filter, a period that runs to today,
    and no ticket dated after it. A group's customers with a ticket since the first day are those
    whose last ticket in the group is on or after it: the sum of its day rows from that day on.

    Of the customers with a ticket, those active at the start (``had_ticket``) leave out the cards
    that became customers on or after the first day (``since_day``, an index range) and those with
    a closure in force at the start (a closure performed before it, on a day before their last
    ticket: the few ``ChurnSpan`` rows)."""
    period, db = sf.dates, sf.db
    if sf.ticket_filters() or sf.scope is not None or period.last < sf.today:
        return None  # (the summary is every card's: a data scope takes the pass over its tickets)
    days = ChurnDay.objects.using(db).order_by()
    if days.filter(Q(customers__gt=0) | Q(closed__gt=0), day__gt=period.last).exists():
        return None  # a ticket dated after the period (the summary would count it)
    if period.first is not None:
        days = days.filter(day__gte=period.first)
    sums = days.values("group_key").annotate(c=Sum("customers"), k=Sum("closed")).values_list("group_key", "c", "k")
    found = {("all", None): (0, 0)} | {_breakdown(key): (c, k) for key, c, k in sums if c}
    if period.start is None:
        return Counted(found, None, None)
    first, start = period.first, period.start
    lasts = ChurnLast.objects.using(db).filter(group_key=ALL, last_day__gte=first)
    newer = lasts.filter(since_day__gte=first).count()
    spans = ChurnSpan.objects.using(db).filter(performed_at__lt=start, last_day__gte=first, since_day__lt=first)
    in_force = spans.filter(Q(reverted_at__isnull=True) | Q(reverted_at__gte=start))
    closed_then = set(in_force.values_list("customer_id", flat=True))
    # Closed within 90 days of the start without a ticket: those closed, less those with a ticket.
    window = lasts.filter(closed_at__gte=start, closed_at__lt=start + WINDOW, since_day__lt=first)
    with_ticket = sum(cid not in closed_then for cid in window.values_list("customer_id", flat=True))
    closed_without = _closed_active(db, start, first) - with_ticket
    return Counted(found, found[("all", None)][0] - newer - len(closed_then), closed_without)


def _closed_active(db: str, start, first) -> int:
    """Cards closed ("close", in force) within 90 days after ``start`` that were customers before
    ``first`` and had no closure in force at ``start`` (``no_ticket_closures`` without its ticket
    condition). Such a card's closure is its one in force, so a closure in force at the start
    would be an earlier one, reverted since: only the reinstatements after the start are read."""
    reinstated = Closure.objects.using(db).filter(
        customer=OuterRef("customer"), reverted_at__gte=start, performed_at__lt=start
    )
    return _closed_after_start(db, start, first).exclude(Exists(reinstated)).count()


def _breakdown(group_key: str) -> tuple[str, object]:
    """A summary group as ``counted``'s key: "all", "sla:missed", "again:yes", "cat:7" ..."""
    if group_key == ALL:
        return ("all", None)
    breakdown, key = group_key.split(":", 1)
    return ("category", int(key)) if breakdown == "cat" else (breakdown, key)


def compute(sf: ServiceFilter) -> ServiceChurn:
    period = sf.dates
    link = {
        "svc": "after",
        "svc_from": period.first.isoformat() if period.first else "",
        "svc_to": period.last.isoformat(),
    }
    link.update({f"svc_{k}": v for k, v in sf.params().items() if k in ("category", "channel", "team", "priority")})
    figures = counted(sf)
    found = figures.groups

    def rate(breakdown, key, label, **narrowing) -> Rate:
        customers, closed = found[(breakdown, key)]
        return Rate(str(key), label, customers, closed, {**link, **narrowing})

    with_ticket = rate("all", None, gettext("Customers with a ticket"))
    with_ticket.key = "all"
    labels = {c.pk: c.label for c in Category.objects.using(sf.db).all()}
    by_category = [
        rate("category", pk, labels.get(pk, ""), svc_category=pk)
        for (breakdown, pk) in found
        if breakdown == "category"
    ]
    by_category.sort(key=lambda r: (-r.customers, r.label))
    sla_labels = {"met": gettext("SLA met"), "missed": gettext("SLA missed"), "open": gettext("Not resolved (yet)")}
    reopen_labels = {"no": gettext("Not reopened"), "yes": gettext("Reopened")}
    return ServiceChurn(
        with_ticket=with_ticket,
        without_ticket=None if period.start is None else _without_ticket(sf, figures),
        by_category=by_category,
        by_sla=[rate("sla", k, label, svc_sla=k) for k, label in sla_labels.items() if ("sla", k) in found],
        by_reopened=[rate("again", k, t, svc_reopened=k) for k, t in reopen_labels.items() if ("again", k) in found],
        window_open=period.end + WINDOW > timezone.now(),
    )


def _closed_after_start(db: str, start, first, scope=None):
    """ "Close" closures in force, within 90 days after ``start``, of cards that were customers before
    ``first`` (of the ``scope``'s owners' cards, when given)."""
    rows = (
        Closure.objects.using(db)
        .order_by()
        .filter(action=Action.CLOSE, reverted_at__isnull=True, performed_at__gte=start)
        .filter(performed_at__lt=start + WINDOW, customer__customer_since__lt=first)
    )
    return rows if scope is None else rows.filter(card_owner_id__in=scope)


def no_ticket_closures(db: str, start, end, scope=None):
    """Closures ("close", in force) within 90 days after ``start`` of cards that were customers
    before ``start``'s day and had no ticket from ``start`` to ``end`` (the drill-down's list; the
    figure counts the same closures in the pass of ``counted``)."""
    tickets = Ticket.objects.using(db).filter(customer=OuterRef("customer"), created_at__gte=start, created_at__lt=end)
    in_force_before = in_force_at(db, start).filter(customer=OuterRef("customer"))
    closed = _closed_after_start(db, start, start.date(), scope)
    return closed.exclude(Exists(tickets)).exclude(Exists(in_force_before))


def _without_ticket(sf: ServiceFilter, figures: Counted) -> Rate:
    """Customers active at the start who had no ticket in the period, and those of them closed
    within 90 days of the start. Active at the start: customers before its first day (the cached
    counts of customers/counts.py) less closures in force at the start; ``had_ticket``: those of
    them with a ticket in the period (any ticket: the filters narrow the ticket side only), counted
    in the pass over the period's tickets (``counted``)."""
    period, db = sf.dates, sf.db
    if sf.scope is None:
        before = since_before_each([period.first], using=db)[0]
        in_force = churn._in_force([period], None, db)[period][0]  # from the closure tally, mostly
    else:  # the scope's cards, as the churn rate counts them (analytics/population.py)
        people = population.Population({"scope": sf.scope}, using=db)
        before = people.customers_before(period.first)
        in_force = churn._in_force([period], people.closures, db, tally=tallied.population_tally(people, db))
        in_force = in_force[period][0]
    customers = max(0, before - in_force - figures.had_ticket)
    link = {"svc": "none", "svc_from": period.first.isoformat(), "svc_to": period.last.isoformat()}
    return Rate("none", gettext("Customers without a ticket"), customers, figures.closed_without, link)


__all__ = ["Counted", "Rate", "ServiceChurn", "compute", "counted", "in_force_at", "no_ticket_closures"]
