""" "Customer since" (客户起始日期): the rules for the date a customer became one, and tenure in words.

Tenure, the churn rate's population and the cohorts all start at a card's ``customer_since``
(issue 17), so the date must be one a customer can have: not in the future (local today), not
before 1900, and not after the card's first closure (open or reverted): a card closed on
2024-05-01 was a customer before then, and a later date would make its tenure at closing negative.
The card form, the card gate and the import all check it with these functions, in these words.

Summaries of later floors that keep a card's "customer since" (service/churn_summary.py) hear of
a change through ``on_change``: the card gate and the import's bulk write call ``changed`` with
the cards whose date they changed, in their transaction.
"""

import datetime as dt
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Customer, local_today

EARLIEST = dt.date(1900, 1, 1)
_listeners: list[Callable[[list[int]], None]] = []


def on_change(listener: Callable[[list[int]], None]) -> None:
    """Call ``listener(card ids)`` whenever the card gate or an import changes cards' "customer since"."""
    if listener not in _listeners:
        _listeners.append(listener)


def changed(customer_ids: Iterable[int]) -> None:
    ids = sorted(set(customer_ids))
    for listener in _listeners if ids else ():
        listener(ids)


def date_problem(day: dt.date, *, today: dt.date | None = None) -> str:
    """Why ``day`` cannot be a "customer since" date ("" when it can), before looking at closures."""
    today = today or local_today()
    if day > today:
        return _("The date a customer became one cannot be in the future (%(date)s).") % {"date": day.isoformat()}
    if day < EARLIEST:
        return _("Enter a date after 1 January 1900 (%(date)s is before it).") % {"date": day.isoformat()}
    return ""


def first_closed_on(customer_ids) -> dict[int, dt.date]:
    """The local date of each card's earliest closure (open or reverted), for the cards that have one.

    One grouped query over the closures' customer index (through the reverse relation, so this
    floor imports nothing from closures/)."""
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = (
        Customer.objects.filter(pk__in=ids, closures__isnull=False)
        .order_by()
        .values("pk")
        .annotate(first=Min("closures__performed_at"))
        .values_list("pk", "first")
    )
    tz = timezone.get_default_timezone()
    return {pk: timezone.localtime(first, tz).date() for pk, first in rows}


def closure_problem(day: dt.date, first_closed: dt.date | None) -> str:
    """Why ``day`` cannot be the "customer since" of a card first closed on ``first_closed`` ("" if it can)."""
    if first_closed is not None and day > first_closed:
        return _(
            "The card was first closed on %(closed)s; the customer must have become one on or before that date."
        ) % {"closed": first_closed.isoformat()}
    return ""


def check(day: dt.date, customer_id: int | None = None) -> None:
    """ValidationError on the ``customer_since`` field unless ``day`` may be the card's date."""
    problem = date_problem(day)
    if not problem and customer_id is not None:
        problem = closure_problem(day, first_closed_on([customer_id]).get(customer_id))
    if problem:
        raise ValidationError({"customer_since": ValidationError(problem, code="customer_since")})


def months_before(day: dt.date, months: int) -> dt.date:
    """``day`` moved back ``months`` calendar months (31 March less one month: the last day of February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    if year < 1:
        raise ValueError("before year 1")
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def whole_months(since: dt.date, today: dt.date) -> int:
    """Whole calendar months from ``since`` to ``today`` (0 when ``since`` is today or later); the
    last day of a short month completes a month begun on a later day (31 January to 28 February: 1)."""
    months = (today.year - since.year) * 12 + today.month - since.month
    if today.day < since.day and (today + dt.timedelta(days=1)).day != 1:
        months -= 1
    return max(months, 0)


def tenure_text(since: dt.date, today: dt.date | None = None) -> str:
    """How long the customer has been one, in words: "2 years 3 months", "5 months", "less than a month"."""
    months = whole_months(since, today or local_today())
    years, months = divmod(months, 12)
    if not years and not months:
        return _("less than a month")
    parts = []
    if years:
        parts.append(ngettext("%(count)d year", "%(count)d years", years) % {"count": years})
    if months:
        parts.append(ngettext("%(count)d month", "%(count)d months", months) % {"count": months})
    return " ".join(parts)
