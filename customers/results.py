"""What the search page pages through, read with queries that stay fast at a million cards:
results in parts (:class:`ExactFirst`, :class:`LastDigits`, :class:`DrivenBy`) where one ordered query would sort
every match, the paginator that counts them by their own means, and the tag names of a page.

customers.filters.search_results builds them from the search's parameters.
"""

from functools import cached_property

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import IntegerField, OrderBy, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce

from crm.pagination import CappedPaginator

from . import search
from .models import Customer

PER_PAGE = 25
COUNT_CAP = 1000


def reading_tag_names(queryset: QuerySet) -> QuerySet:
    """On PostgreSQL, the rows of ``queryset`` come with their ``tag_names`` (an array subquery
    per row read, alphabetical): a page of results then needs no query of its own for them.
    Counts leave the unused annotation out. Elsewhere the queryset is returned as it is and
    :func:`with_tag_names` reads the names."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset
    names = Customer.tags.through.objects.filter(customer_id=OuterRef("pk")).order_by("tag__name").values("tag__name")
    return queryset.annotate(tag_names=ArraySubquery(names))


def with_tag_names(customers) -> list[Customer]:
    """A page of customers, each with ``tag_names`` (alphabetical), read in one query for the page
    unless they were read with the rows (:func:`reading_tag_names`).

    The names are all the results table shows; prefetching Tag objects for them cost about
    three times as much (a manager and a model instance per tag).
    """
    customers = list(customers)
    if all(hasattr(customer, "tag_names") for customer in customers):
        return customers
    names: dict[int, list[str]] = {}
    if customers:
        links = Customer.tags.through.objects.filter(customer_id__in=[c.pk for c in customers])
        for customer_id, name in links.order_by("tag__name").values_list("customer_id", "tag__name"):
            names.setdefault(customer_id, []).append(name)
    for customer in customers:
        customer.tag_names = names.get(customer.pk, [])
    return customers


class ResultsInParts:
    """Search results read in parts (ids, exact rows, other rows) rather than as one queryset: what
    the paginator needs of them. Subclasses give ``capped_count`` and ``rows(start, stop)``."""

    ordered = True  # for Paginator's check

    def capped_count(self, cap: int) -> int:
        raise NotImplementedError

    def rows(self, start: int, stop: int) -> list[Customer]:
        raise NotImplementedError

    def __getitem__(self, index: slice) -> list[Customer]:
        if not isinstance(index, slice) or index.step:
            raise TypeError(f"{type(self).__name__} supports slices only")
        return self.rows(index.start or 0, index.stop)

    def __len__(self) -> int:
        return self.capped_count(COUNT_CAP)


class ExactFirst(ResultsInParts):
    """Exact matches first, then the other matches, each in the chosen sort, read as two queries.

    ORDER BY (exact match?), column cannot come from an index: PostgreSQL would fetch and
    sort every match of a frequent name ("王" matches 5% of all cards: 0.4 s at a million).
    Instead the exact matches (a handful, found through the exact-match indexes, at most
    COUNT_CAP) are fetched by id, and the other matches are read in index order of the sort
    column, skipping exact ones, which stops after one page.
    """

    def __init__(
        self, queryset: QuerySet, terms: search.Terms, order: list, *, newest_first: bool, by_name_column: bool = False
    ):
        self.queryset, self.terms, self.order, self.newest_first = queryset, terms, order, newest_first
        # Names containing 王 sorted by name sit together (王 is a surname) far down the name
        # index: walking it from the start in search of them reads most of the table (12 s at
        # a million). Sorting the matches themselves is bounded by their number instead.
        self.others_order = _without_index(order) if by_name_column and terms.by_name else order

    @cached_property
    def exact_head(self) -> list[Customer] | None:
        """All the exact matches, newest first, when they fit on one page (a phone, a number, a
        rare name: nearly every search), read with their rows in one query; None when there are
        more (then only their ids are read, by :attr:`exact_ids`). Unordered in SQL (see
        exact_ids), sorted here."""
        rows = list(self.queryset.filter(self.terms.exact).order_by()[: PER_PAGE + 1])
        return sorted(rows, key=lambda customer: customer.pk, reverse=True) if len(rows) <= PER_PAGE else None

    @cached_property
    def exact_ids(self) -> list[int]:
        if self.exact_head is not None:
            return [customer.pk for customer in self.exact_head]
        # No ORDER BY here: with one, the planner may walk a sort index looking for the few exact rows.
        exact = self.queryset.filter(self.terms.exact).order_by().values_list("pk", flat=True)
        return list(exact[: COUNT_CAP + 1])

    @cached_property
    def others(self) -> QuerySet:
        """Matches that are not exact, in the sort's order: read from the sort column's index.

        The exact rows are left out by id when all of them are known: "id <> ALL(ids)" is
        checked in the index, where "NOT upper(name) = ..." reads each candidate row (the
        capped count of a frequent name took 14 ms instead of 3)."""
        matches = self.queryset.filter(self.terms.match)
        if len(self.exact_ids) <= COUNT_CAP:
            others = matches.exclude(pk__in=self.exact_ids) if self.exact_ids else matches
        else:
            others = matches.exclude(self.terms.exact)
        return others.order_by(*self.others_order)

    def capped_count(self, cap: int) -> int:
        if not self.terms.in_id_order:
            # Three or more characters: one count over the trigram and exact-match indexes
            # together (a bitmap OR). Leaving the exact rows out of the other matches by id
            # instead meant compiling and sending their ids: 李伟伟's 373 took 5 ms of CPU.
            return self.queryset.filter(self.terms.found).order_by().values("pk")[: cap + 1].count()
        exact = len(self.exact_ids)
        if exact > cap:
            return exact
        # One or two characters: "name-gram match OR exact" cannot be one bitmap (0.7 s for 伟伟),
        # so the other matches are counted in id order, the planner reading the name-gram index
        # in step with the primary key and stopping at the cap instead of hashing every match.
        others = self.others.order_by("-pk").values("pk")  # only ids: without the rows' annotations
        return exact + others[: cap + 1 - exact].count()

    def rows(self, start: int, stop: int) -> list[Customer]:
        exact_count = len(self.exact_ids)
        rows = []
        if start < exact_count and self.exact_head is not None and self.newest_first:
            exact = self.exact_head[start : min(stop, exact_count)]
        elif start < exact_count:
            if self.newest_first:
                # Newest first is the ids' order: fetch only this page's (a frequent full name such
                # as 李伟伟 has 350 exact matches; sorting all of them to keep 25 took 7 ms).
                ids = sorted(self.exact_ids, reverse=True)[start : min(stop, exact_count)]
                exact = self.queryset.filter(pk__in=ids).order_by(*self.order)
            else:
                exact = self.queryset.filter(pk__in=self.exact_ids).order_by(*_without_index(self.order))
                exact = exact[start : min(stop, exact_count)]
        if start < exact_count:
            rows += [_marked(c, 0) for c in exact]
        if stop > exact_count:
            rows += [_marked(c, 1) for c in self.others[max(start - exact_count, 0) : stop - exact_count]]
        return rows


class LastDigits(ResultsInParts):
    """A search by a phone's last digits, newest first: the card whose number is those digits (if
    any), then the cards whose phone ends with them.

    Their ids are read first, from indexes alone (the covering phone_rev index, migration 0009),
    then only the page's rows: the last four digits match about 100 cards at a million, each on
    its own page of the table, and reading every one of them to sort and count (one query,
    COUNT(*) OVER ()) took 8 ms of reads when the table was not in PostgreSQL's cache.
    """

    def __init__(self, queryset: QuerySet, terms: search.Terms):
        self.queryset, self.terms = queryset, terms

    @cached_property
    def ranked_ids(self) -> list[tuple[int, int]]:
        """(id, 0 for an exact match, else 1), in the page's order; at most COUNT_CAP + 1."""
        found = self.queryset.filter(self.terms.by_suffix).order_by()
        found = found.annotate(rank=Value(1, output_field=IntegerField())).values_list("pk", "rank")
        if self.terms.exact is not None:
            exact = self.queryset.filter(self.terms.exact).order_by()
            found = (
                exact.annotate(rank=Value(0, output_field=IntegerField()))
                .values_list("pk", "rank")
                .union(found, all=True)
            )
        ranked, seen = [], set()
        for pk, rank in found.order_by("rank", "-pk")[: COUNT_CAP + 2]:  # an exact match may be there twice
            if pk not in seen:
                seen.add(pk)
                ranked.append((pk, rank))
        return ranked[: COUNT_CAP + 1]

    def capped_count(self, cap: int) -> int:
        return min(len(self.ranked_ids), cap + 1)

    def rows(self, start: int, stop: int) -> list[Customer]:
        page = self.ranked_ids[start:stop]
        if not page:
            return []
        rows = {
            customer.pk: customer for customer in self.queryset.filter(pk__in=[pk for pk, _rank in page]).order_by()
        }
        return [_marked(rows[pk], rank) for pk, rank in page if pk in rows]  # a card gone since is left out


class DrivenBy(ResultsInParts):
    """Newest first, the matches of a filter that knows its candidates (customers.extra_filters):
    its candidate ids are read from its own index a chunk at a time, newest first, and each chunk
    is checked against the whole search (``queryset``, that filter included) by id.

    One ordered query would leave the choice of plan to PostgreSQL, which expects matches spread
    evenly over the cards: for "high risk" it walked the cards from the newest, joining each to
    its score, across the 250,000 newest cards before the first old enough to be at risk (0.18 s
    at a million). Here the walk is the filter's index, and the cards are read by id.
    """

    FIRST_CHUNK = PER_PAGE * 4
    CHUNK = 2000

    def __init__(self, queryset: QuerySet, candidates):
        self.queryset, self.candidates = queryset, candidates
        self.found: list[int] = []
        self.before: int | None = None
        self.exhausted = False

    def ids(self, wanted: int) -> list[int]:
        """The first ``wanted`` matching ids, newest first (fewer when there are no more)."""
        while len(self.found) < wanted and not self.exhausted:
            # Twice what is missing (about half the candidates may be closed cards or fail another
            # filter): a long list of ids costs PostgreSQL more to plan than to check.
            limit = min(self.CHUNK, max(self.FIRST_CHUNK, 2 * (wanted - len(self.found))))
            chunk = self.candidates(self.before, limit)
            self.exhausted = len(chunk) < limit
            if not chunk:
                break
            self.before = chunk[-1]
            matching = self.queryset.filter(pk__in=chunk).order_by("-pk").values_list("pk", flat=True)
            self.found += list(matching)
        return self.found[:wanted]

    def capped_count(self, cap: int) -> int:
        """Known when the walk went that far; otherwise counted in SQL, in no order, where any plan
        stops at the cap within milliseconds (an old card is likely enough at risk, and a new one
        likely enough a champion), rather than checking thousands of candidates by id."""
        if len(self.found) > cap or self.exhausted:
            return min(len(self.found), cap + 1)
        return self.queryset.order_by().values("pk")[: cap + 1].count()

    def rows(self, start: int, stop: int) -> list[Customer]:
        page = self.ids(stop)[start:stop]
        if not page:
            return []
        rows = {customer.pk: customer for customer in self.queryset.filter(pk__in=page).order_by()}
        return [rows[pk] for pk in page if pk in rows]  # a card changed since is left out


def _without_index(order: list) -> list:
    """The same order over expressions no index serves: for at most COUNT_CAP rows fetched by id,
    sorting them beats walking a sort index in search of them (which the planner may prefer)."""
    return [
        OrderBy(
            Coalesce(term.expression, term.expression),
            descending=term.descending,
            nulls_first=term.nulls_first,
            nulls_last=term.nulls_last,
        )
        for term in order
    ]


def _marked(customer: Customer, rank: int) -> Customer:
    customer.exact_match = rank
    return customer


class SearchPaginator(CappedPaginator):
    """crm.pagination's paginator (counts at most COUNT_CAP + 1 rows, pages on with "Next" beyond
    that), counting an :class:`ExactFirst` or :class:`LastDigits` result by its own means."""

    def __init__(self, object_list, per_page: int = PER_PAGE, cap: int = COUNT_CAP, **kwargs):
        super().__init__(object_list, per_page, cap=cap, **kwargs)

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, ResultsInParts):
            return self.object_list.capped_count(self.cap)
        return super().count

    def page(self, number):
        """The page; a search of few matches (see search_results) gives its count with its rows."""
        page = super().page(number)
        if "count" not in self.__dict__ and page.object_list and hasattr(page.object_list[0], "found_count"):
            self.__dict__["count"] = page.object_list[0].found_count  # fills the cached_property
        return page
