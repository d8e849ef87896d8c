"""The ticket queues: which tickets a view (mine, my teams', unassigned, overdue, waiting, all) and
the filters in the URL select, and in what order. Each view starts from an index of Ticket
(service/models.py and migration 0003_desk_queue_indexes):

- mine: ``ticket_assignee_open`` (open tickets by assignee, newest first); team: ``ticket_team_open``;
- unassigned: ``ticket_unassigned_open``; waiting: ``ticket_status_created``;
- overdue: ``ticket_overdue_open``, the tickets being worked newest first with their next due time
  (models.next_due) in the index: the scan skips those not yet due without reading their rows;
- all (Managers): ``ticket_created``, newest first.

The search box takes a ticket number (S2026-000123, or its digits) or what the customer search box
takes (customers/search.py); the customers it finds are bounded (``CUSTOMER_CAP``), so the tickets
are read through ``ticket_customer_created``.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from crm import scopes
from customers import search
from customers.models import Customer

from . import sla
from .models import OPEN_STATUSES, WORKING_STATUSES, Priority, Status, Ticket, next_due

VIEWS = ("mine", "team", "unassigned", "overdue", "waiting", "all")
MANAGER_VIEWS = ("all",)
NOBODY = "nobody"
CUSTOMER_CAP = 200  # customers a search may find; the tickets of more would not be one page's worth anyway
ROW_RELATED = ("customer", "category", "team", "assignee")
# What a row shows (service/rows.py, mark, the card's panel), not the whole of four models: a page's
# 26 tickets with every column of the ticket, the card and the user cost 1.1 ms more CPU at two
# million tickets (4.4 ms against 3.3 ms to read and build them).
ROW_FIELDS = (
    *("number", "subject", "status", "priority", "created_at", "first_response_at", "first_response_due"),
    *("resolution_due", "customer_id", "category_id", "team_id", "assignee_id"),
    *("customer__customer_no", "customer__name", "customer__status"),
    *("category__key", "category__label_en", "category__label_zh", "team__name_en", "team__name_zh"),
    *("assignee__username", "assignee__first_name", "assignee__last_name"),
)
WORKING = WORKING_STATUSES
SORTS = {
    "opened": ("created_at", "pk"),
    "due": ("resolution_due", "pk"),
    "number": ("number",),
    "priority": ("priority_rank", "created_at", "pk"),
}
DEFAULT_SORT = "-opened"
_NUMBER = re.compile(r"S?(\d{4})-(\d{1,6})", re.IGNORECASE)
_DIGITS = re.compile(r"\d{1,6}")


def views_for(user) -> tuple[str, ...]:
    manager = user.has_perm("service.manage_tickets")
    return tuple(view for view in VIEWS if manager or view not in MANAGER_VIEWS)


def base(view: str, user, now: dt.datetime) -> QuerySet:
    """The tickets of ``view`` for ``user`` (open ones, except for ``all``), on the cards in their
    data scope (crm/scopes.py)."""
    tickets = scopes.visible(Ticket.objects.all(), user)
    if view == "mine":
        return tickets.filter(assignee_id=user.pk, status__in=OPEN_STATUSES)
    if view == "team":
        # The ids first (a user is in a team or two): "team_id IN (1, 2)" reads ticket_team_status,
        # where a subquery had the planner walk every ticket newest first looking for them.
        team_ids = list(user.teams.values_list("pk", flat=True))
        return tickets.filter(team_id__in=team_ids, status__in=OPEN_STATUSES) if team_ids else tickets.none()
    if view == "unassigned":
        return tickets.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    if view == "overdue":
        return tickets.alias(next_due=next_due()).filter(sla.overdue_q(now))
    if view == "waiting":
        return tickets.filter(status=Status.WAITING)
    return tickets


def ticket_numbers(text: str, today: dt.date) -> list[str]:
    """The ticket numbers ``text`` may mean: S2026-000123 as typed, or 123 in this year and the last two."""
    text = text.strip()
    found = _NUMBER.fullmatch(text)
    if found:
        return [f"S{found[1]}-{int(found[2]):06d}"]
    if _DIGITS.fullmatch(text) and int(text):
        return [f"S{year}-{int(text):06d}" for year in (today.year, today.year - 1, today.year - 2)]
    return []


def customer_ids(text: str) -> list[int]:
    """The cards the customer search box finds for ``text``: its exact matches, then the others, bounded."""
    terms = search.parse(text)
    if terms is None:
        return []
    ids = list(Customer.objects.filter(terms.match).values_list("pk", flat=True)[:CUSTOMER_CAP])
    if terms.exact is not None:
        ids += list(Customer.objects.filter(terms.exact).values_list("pk", flat=True)[:CUSTOMER_CAP])
    return sorted(set(ids))


def matching(tickets: QuerySet, text: str) -> QuerySet:
    numbers = ticket_numbers(text, timezone.localdate())
    ids = customer_ids(text)
    return tickets.filter(Q(number__in=numbers) | Q(customer_id__in=ids)) if numbers or ids else tickets.none()


def filtered(tickets: QuerySet, filters: dict) -> QuerySet:
    """``tickets`` narrowed by the queue's filters (cleaned by service.forms.QueueFilter)."""
    for name, lookup in (("status", "status"), ("category", "category"), ("priority", "priority")):
        if filters.get(name):
            tickets = tickets.filter(**{lookup: filters[name]})
    for name in ("team", "channel", "customer"):
        if filters.get(name):
            tickets = tickets.filter(**{name: filters[name]})
    assignee = filters.get("assignee")
    if assignee == NOBODY:
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = tickets.filter(assignee_id=int(assignee))
    zone = timezone.get_current_timezone()
    if filters.get("opened_from"):
        tickets = tickets.filter(created_at__gte=dt.datetime.combine(filters["opened_from"], dt.time(), zone))
    if filters.get("opened_to"):
        end = dt.datetime.combine(filters["opened_to"] + dt.timedelta(days=1), dt.time(), zone)
        tickets = tickets.filter(created_at__lt=end)
    if filters.get("q"):
        tickets = matching(tickets, filters["q"])
    return tickets


def priority_rank() -> Case:
    """low 0 < normal 1 < high 2 < urgent 3: the expression of the index ticket_priority_rank."""
    ranks = [When(priority=value, then=Value(rank)) for rank, value in enumerate(Priority.values)]
    return Case(*ranks, default=Value(0), output_field=IntegerField())


def ordered(tickets: QuerySet, sort: str) -> QuerySet:
    """Sorted by ``sort`` (opened, due, priority, number; a leading "-" for descending), each order
    served by an index on all tickets (ticket_created, ticket_due, ticket_priority_rank, number)."""
    descending, key = sort.startswith("-"), sort.lstrip("-")
    fields = SORTS.get(key) or SORTS["opened"]
    if key == "priority":
        tickets = tickets.alias(priority_rank=priority_rank())
    return tickets.order_by(*(f"-{f}" if descending else f for f in fields))


def queue(view: str, user, filters: dict, now: dt.datetime | None = None) -> QuerySet:
    """The rows of a queue page, ready to paginate."""
    tickets = filtered(base(view, user, now or timezone.now()), filters)
    return ordered(tickets, filters.get("o") or DEFAULT_SORT).select_related(*ROW_RELATED).only(*ROW_FIELDS)


def mark(rows, now: dt.datetime | None = None) -> list[Ticket]:
    """Each row's due time (first response until responded, then resolution), overdue and paused flags."""
    now = now or timezone.now()
    rows = list(rows)
    for ticket in rows:
        ticket.due = ticket.first_response_due if ticket.first_response_at is None else ticket.resolution_due
        ticket.is_overdue = sla.overdue(ticket, now)
        ticket.is_paused = ticket.status == Status.WAITING
    return rows
