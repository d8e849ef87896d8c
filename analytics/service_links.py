"""Where the service figures drill down to.

- Ticket counts go to the ticket queue (``service:queue``) with its own filters (category, channel,
  team, priority, opened_from, opened_to, view=all). The queue is the service app's page; its
  filter names are its contract.
- Churn-after-service figures and the closure dashboard's service share go to the closure list,
  narrowed by the ``svc`` parameters read here (``closures_for``), next to the list's own filters
  (the links set ``period=all``: the narrowing carries its own dates):

    svc=breached                  closures whose customer's last ticket before the closure
                                  missed its SLA (first response or resolution late);
    svc=after&svc_from&svc_to     "close" closures in force within 90 days after a ticket opened
      [&svc_category&svc_channel&svc_team&svc_priority&svc_sla=met|missed|open&svc_reopened=yes|no]
                                  in those dates (and matching those filters);
    svc=none&svc_from&svc_to      "close" closures in force within 90 days after svc_from of
                                  customers before it with no ticket in those dates.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Subquery, Value
from django.db.models import DateTimeField as DateTimeOutput
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext

from closures.models import Action, Closure
from service.models import Category, Channel, Priority, Status, Ticket

from .filters import local_midnight

PARAM = "svc"
NARROWING = ("svc", "svc_from", "svc_to", "svc_category", "svc_channel", "svc_team", "svc_priority", "svc_sla")
NARROWING += ("svc_reopened",)
QUEUE_FALLBACK = "/service/"


def queue_url(**params) -> str:
    """The ticket queue with these filters (empty values left out). The queue's URL name is
    ``service:queue``; until it exists the link is its planned path."""
    try:
        base = reverse("service:queue")
    except NoReverseMatch:
        base = QUEUE_FALLBACK
    return f"{base}?{urlencode({k: v for k, v in params.items() if v not in (None, '')})}"


def opened_params(sf, **overrides) -> dict:
    """Queue parameters for the tickets ``sf`` selects by opening date (with some replaced)."""
    period = sf.dates
    params = {"view": "all", "opened_from": period.first.isoformat() if period.first else "", "opened_to": ""}
    params["opened_to"] = period.last.isoformat()
    params.update({k: v for k, v in sf.params().items() if k in ("category", "channel", "team", "priority")})
    params.update(overrides)
    return params


def closure_list_url(**params) -> str:
    return f"{reverse('analytics:closure_list')}?{urlencode({'period': 'all', **params})}"


def last_ticket_breached():
    """Subquery: did the customer's last ticket opened before the closure miss its SLA? (One
    index-only probe into ``ticket_customer_created``, which carries the breach flags.)"""
    last = Ticket.objects.filter(customer=OuterRef("customer"), created_at__lt=OuterRef("performed_at"))
    missed = ExpressionWrapper(Q(first_response_breached=True) | Q(resolution_breached=True), BooleanField())
    last = last.order_by("-created_at", "-pk").annotate(missed=missed)
    return Subquery(last.values("missed")[:1])


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


MAX_ID_DIGITS = 18  # a longer "id" is no row's (and overflows the database's integers): ignored


def closures_for(params, *, using: str):
    """The closures the ``svc`` parameters select, as a queryset for ClosureFilter(queryset=...);
    None when there is no (valid) narrowing."""
    kind = params.get(PARAM)
    rows = Closure.objects.using(using)
    if kind == "breached":
        return rows.annotate(svc_missed=last_ticket_breached()).filter(svc_missed=True)
    first, last = _day(params.get("svc_from")), _day(params.get("svc_to"))
    if kind not in ("after", "none") or last is None or (kind == "none" and first is None):
        return None
    end = local_midnight(last + timedelta(days=1))
    if kind == "none":
        from .service_churn import no_ticket_closures

        return no_ticket_closures(using, local_midnight(first), end)
    tickets = Ticket.objects.using(using).filter(customer=OuterRef("customer"), created_at__lt=end)
    if first is not None:
        tickets = tickets.filter(created_at__gte=local_midnight(first))
    for name, column in (("category", "category_id"), ("team", "team_id")):
        value = params.get(f"svc_{name}")
        if value and str(value).isdigit() and len(str(value)) <= MAX_ID_DIGITS:
            tickets = tickets.filter(**{column: int(value)})
    for name, choices in (("channel", Channel.values), ("priority", Priority.values)):
        if params.get(f"svc_{name}") in choices:
            tickets = tickets.filter(**{name: params[f"svc_{name}"]})
    missed = Q(first_response_breached=True) | Q(resolution_breached=True)
    if params.get("svc_sla") == "missed":
        tickets = tickets.filter(missed)
    elif params.get("svc_sla") == "met":
        tickets = tickets.exclude(missed).filter(status__in=(Status.RESOLVED, Status.CLOSED))
    elif params.get("svc_sla") == "open":
        tickets = tickets.exclude(missed).exclude(status__in=(Status.RESOLVED, Status.CLOSED))
    if params.get("svc_reopened") == "yes":
        tickets = tickets.filter(reopen_count__gt=0)
    elif params.get("svc_reopened") == "no":
        tickets = tickets.filter(reopen_count=0)
    window = ExpressionWrapper(OuterRef("performed_at") - Value(timedelta(days=90)), output_field=DateTimeOutput())
    tickets = tickets.filter(created_at__lte=OuterRef("performed_at"), created_at__gt=window)
    return rows.filter(action=Action.CLOSE, reverted_at__isnull=True).filter(Exists(tickets))


def describe(params, *, using: str) -> str:
    """The narrowing in words, for the closure list's heading."""
    kind = params.get(PARAM)
    if kind == "breached":
        return gettext("Customers whose last ticket before the closure missed its SLA")
    first, last = params.get("svc_from") or "…", params.get("svc_to") or ""
    if kind == "none":
        return gettext("Closed within 90 days of %(first)s, with no ticket from %(first)s to %(last)s") % {
            "first": first,
            "last": last,
        }
    parts = []
    category = params.get("svc_category")
    if category and str(category).isdigit():
        found = Category.objects.using(using).filter(pk=int(category)).first()
        parts.append(found.label if found else category)
    if params.get("svc_channel") in Channel.values:
        parts.append(str(Channel(params["svc_channel"]).label))
    if params.get("svc_priority") in Priority.values:
        parts.append(str(Priority(params["svc_priority"]).label))
    sla = {"met": gettext("SLA met"), "missed": gettext("SLA missed"), "open": gettext("Not resolved (yet)")}
    if params.get("svc_sla") in sla:
        parts.append(sla[params["svc_sla"]])
    if params.get("svc_reopened") in ("yes", "no"):
        parts.append(gettext("Reopened") if params["svc_reopened"] == "yes" else gettext("Not reopened"))
    which = f" ({', '.join(parts)})" if parts else ""
    return gettext("Closed within 90 days after a ticket%(which)s opened from %(first)s to %(last)s") % {
        "which": which,
        "first": first,
        "last": last,
    }
