"""The cards a search finds among the statuses its filter hides: "12 closed cards also match".

The search page shows active cards unless other statuses are ticked, so a closed, void or
archived card that matches the box used to vanish without a hint. :func:`also_matching` counts
those matches, per status, with one query of the same kind as the page's own count (capped at
COUNT_CAP + 1 rows, through the same indexes: customers.search), and only when the box has text
and some status is hidden. The page fetches it after the results (htmx, customers:search_also),
so the results' own queries and their speed do not change.

The query: ``SELECT status, COUNT(*) FROM (<the matches among the hidden statuses, ids and
statuses, LIMIT 1001>) GROUP BY status``. For 1 or 2 characters of a name on PostgreSQL, whose
matches come from the name-gram index (customers.search: "grams OR exact" cannot be one bitmap),
each hidden status gets its own capped part read in id order along the (status, id) index, united
with the capped exact matches. (One part over all the hidden statuses, "grams JOIN cards WHERE
status IN (...) ORDER BY id DESC LIMIT 1001", is planned as a hash join over every hidden card:
110 ms for 王 at 300,000 cards, against 46 ms in parts.)

Measured on 300,000 seeded cards (23% of them closed, void, archived or erased; seed_scale): the
most frequent surnames (王, 伟: capped) and two-character names 40–60 ms, a name of three or more
characters 8–12 ms, the last digits of a phone 6 ms, a customer number 3–7 ms; in a request of its
own, after the results are on screen.
"""

from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import search
from .models import Customer
from .results import COUNT_CAP

Status = Customer.Status
ALL = list(Status.values)

# One phrase per status, so each language can word (and pluralise) it whole.
_PHRASES = {
    Status.ACTIVE: lambda n: ngettext("%(count)s active card", "%(count)s active cards", n),
    Status.CLOSED: lambda n: ngettext("%(count)s closed card", "%(count)s closed cards", n),
    Status.VOID: lambda n: ngettext("%(count)s void card", "%(count)s void cards", n),
    Status.ARCHIVED: lambda n: ngettext("%(count)s archived card", "%(count)s archived cards", n),
    Status.ERASED: lambda n: ngettext("%(count)s erased card", "%(count)s erased cards", n),
}


@dataclass(frozen=True)
class AlsoMatch:
    """What the hidden statuses hold for a search: ``counts`` by status (only statuses with
    matches), ``capped`` when there are more than ``cap`` in all (the counts are then partial)."""

    counts: dict[str, int]
    capped: bool
    cap: int = COUNT_CAP

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def sentence(self) -> str:
        """ "12 closed cards and 3 void cards also match this search." (or "More than 1,000 ...")."""
        if self.capped:
            return _("More than %(cap)s cards with a hidden status also match this search.") % {"cap": f"{self.cap:,}"}
        phrases = [_PHRASES[status](n) % {"count": f"{n:,}"} for status, n in self.counts.items()]
        return ngettext("%(cards)s also matches this search.", "%(cards)s also match this search.", self.total) % {
            "cards": get_text_list(phrases, _("and"))
        }


def hidden_statuses(shown: list[str]) -> list[str]:
    """The statuses the search leaves out, in the model's order."""
    return [status for status in Status.values if status not in shown]


def count_by_status(queryset: QuerySet, terms: search.Terms, statuses: list[str], cap: int = COUNT_CAP) -> AlsoMatch:
    """The matches of ``terms`` in ``queryset`` (its other filters applied, no status) among
    ``statuses``, counted per status in one query that reads at most ``cap + 1`` rows a part."""
    sql, params = statement(queryset, terms, statuses, cap)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        found = dict(cursor.fetchall())
    counts = {status: found[status] for status in statuses if found.get(status)}
    capped = sum(counts.values()) > cap or any(n > cap for n in counts.values())
    return AlsoMatch(counts=counts, capped=capped, cap=cap)


def statement(queryset: QuerySet, terms: search.Terms, statuses: list[str], cap: int) -> tuple[str, list]:
    """The counting query's SQL and parameters (see the module's docstring)."""
    base = queryset.order_by()
    if terms.in_id_order:
        parts = [base.filter(terms.match, status=status).order_by("-pk") for status in statuses]
        if terms.exact is not None:
            parts.append(base.filter(terms.exact, status__in=statuses))
    else:
        only = {"status": statuses[0]} if len(statuses) == 1 else {"status__in": statuses}
        parts = [base.filter(terms.found, **only)]
    compiled = [_sql(part.values_list("pk", "status")[: cap + 1]) for part in parts]
    union = " UNION ".join(f"({sql})" if len(compiled) > 1 else sql for sql, _params in compiled)
    params = [value for _sql_text, part_params in compiled for value in part_params]
    return f"SELECT found.status, COUNT(*) FROM ({union}) found GROUP BY found.status", params


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def including(params: QueryDict, shown: list[str], more: list[str]) -> str:
    """The search's query string with the ``more`` statuses ticked too (and from its first page)."""
    query = params.copy()
    query.pop("page", None)
    query.setlist("status", [*shown, *(status for status in more if status not in shown)])
    return query.urlencode()
