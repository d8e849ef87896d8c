"""The search page's box, advanced filters and sort, shared with the export.

:func:`filtered_customers` is the one place that turns URL parameters into customers: the
search page pages through its queryset and the export writes all of it, so an export holds
exactly what the search showed.
"""

import datetime as dt
from functools import cached_property

import django_filters
from django import forms
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import Case, Count, F, IntegerField, OrderBy, OuterRef, QuerySet, Value, When, Window
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import widgets
from crm.pagination import CappedPaginator
from crm.widgets import FastFilterModelChoiceField, FastFilterModelMultipleChoiceField

from . import search
from .forms import owner_choices, user_label
from .models import Customer, Tag

PER_PAGE = 25
COUNT_CAP = 1000
# Without ?o=, newest cards first: the order of the primary key and of the name-gram index,
# so a page of the most frequent surname is read without sorting all its matches.
DEFAULT_SORT = ""

# Sort key in the URL (?o=name, ?o=-name) -> model fields. "Last interaction" treats a card
# that never had one as the oldest; the tie-breaker is the id, in the same direction, so
# (status, column, id) indexes can serve a page without sorting the whole table.
SORTS = {
    "customer_no": ("customer_no", _("Customer number")),
    "name": ("name", _("Name")),
    "city": ("city", _("City")),
    "segment": ("segment", _("Segment")),
    "last_interaction": ("last_interaction_at", _("Last interaction")),
    "total": ("purchase_total", _("Purchase total")),
    "updated": ("updated_at", _("Updated")),
}
SORT_CHOICES = [(key, label) for key, (_field, label) in SORTS.items()] + [
    (f"-{key}", label) for key, (_field, label) in SORTS.items()
]
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)


def order_by_for(sort: str) -> list:
    """ORDER BY terms for a sort key such as "name" or "-total" ("" for newest first)."""
    if not sort:
        return [F("pk").desc()]
    descending = sort.startswith("-")
    field = SORTS[sort.lstrip("-")][0]
    if field == "last_interaction_at":
        term = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_first=True)
    else:
        term = F(field).desc() if descending else F(field).asc()
    return [term, F("pk").desc() if descending else F("pk").asc()]


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class CustomerFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        for name in ("interaction_after", "interaction_before", "purchase_after", "purchase_before"):
            day = cleaned.get(name)
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(name, _("Enter a date between 1900 and 2999."))
        pairs = [
            ("interaction_after", "interaction_before", _("This date is before the “after” date.")),
            ("purchase_after", "purchase_before", _("This date is before the “after” date.")),
            ("total_min", "total_max", _("The maximum is smaller than the minimum.")),
        ]
        for low, high, message in pairs:
            if cleaned.get(low) is not None and cleaned.get(high) is not None and cleaned[high] < cleaned[low]:
                self.add_error(high, message)
        return cleaned


class OwnerFilter(django_filters.ModelChoiceFilter):
    field_class = FastFilterModelChoiceField


class TagFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = FastFilterModelMultipleChoiceField


class CustomerFilter(django_filters.FilterSet):
    """The advanced filters. The box (q), the status default and the sort (o) are applied by
    :func:`filtered_customers`, so that they work the same for the page and the export."""

    q = django_filters.CharFilter(label=_("Search customers"), method="later", max_length=search.MAX_QUERY_LENGTH)
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"),
        choices=Customer.Status.choices,
        widget=widgets.CheckboxSelectMultiple,
        method="later",
        help_text=_("Only active customers unless you tick others."),
    )
    segment = django_filters.ChoiceFilter(
        label=_("Segment"), choices=Customer.Segment.choices, empty_label=_("Any"), widget=widgets.Select
    )
    stage = django_filters.ChoiceFilter(
        label=_("Lifecycle stage"), choices=Customer.Stage.choices, empty_label=_("Any"), widget=widgets.Select
    )
    owner = OwnerFilter(label=_("Owner"), queryset=owner_choices(), empty_label=_("Anyone"))
    city = django_filters.CharFilter(label=_("City"), method="filter_city", max_length=60, widget=widgets.TextInput)
    tag = TagFilter(
        label=_("Tags"),
        field_name="tags",
        queryset=Tag.objects.all(),
        to_field_name="name",
        method="filter_tags",
        help_text=_("Customers with any of these tags."),
    )
    interaction_after = django_filters.DateFilter(
        label=_("Last interaction after"), method="filter_interaction_after", widget=widgets.DateInput({"type": "date"})
    )
    interaction_before = django_filters.DateFilter(
        label=_("Last interaction before"),
        method="filter_interaction_before",
        widget=widgets.DateInput({"type": "date"}),
    )
    purchase_after = django_filters.DateFilter(
        label=_("Last purchase after"),
        field_name="last_purchase_on",
        lookup_expr="gte",
        widget=widgets.DateInput({"type": "date"}),
    )
    purchase_before = django_filters.DateFilter(
        label=_("Last purchase before"),
        field_name="last_purchase_on",
        lookup_expr="lte",
        widget=widgets.DateInput({"type": "date"}),
    )
    total_min = django_filters.NumberFilter(
        label=_("Purchase total from"),
        field_name="purchase_total",
        lookup_expr="gte",
        min_value=0,
        widget=widgets.NumberInput,
    )
    total_max = django_filters.NumberFilter(
        label=_("Purchase total to"),
        field_name="purchase_total",
        lookup_expr="lte",
        min_value=0,
        widget=widgets.NumberInput,
    )
    o = django_filters.ChoiceFilter(label=_("Sort by"), choices=SORT_CHOICES, method="later", widget=widgets.Select)

    class Meta:
        model = Customer
        fields: list[str] = []
        form = CustomerFilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["owner"].label_from_instance = user_label

    def later(self, queryset, name, value):
        return queryset

    def filter_city(self, queryset, name, value):
        return queryset.filter(city=" ".join(value.split()))

    def filter_tags(self, queryset, name, value):
        if not value:  # an empty queryset of tags is not "empty" to django-filter
            return queryset
        through = Customer.tags.through.objects.filter(tag__in=value).values("customer_id")
        return queryset.filter(pk__in=through)

    def filter_interaction_after(self, queryset, name, value):
        return queryset.filter(last_interaction_at__gte=_start_of_day(value))

    def filter_interaction_before(self, queryset, name, value):
        return queryset.filter(last_interaction_at__lt=_start_of_day(value + dt.timedelta(days=1)))

    # --- what filtered_customers applies -----------------------------------------------------
    @cached_property
    def cleaned(self) -> dict:
        """The valid values only: an invalid one is left out (its error is shown by its field)."""
        self.form.is_valid()
        return self.form.cleaned_data

    @cached_property
    def terms(self) -> search.Terms | None:
        return search.parse(self.cleaned.get("q") or "", using=self.queryset.db)

    @property
    def statuses(self) -> list[str]:
        return list(self.cleaned.get("status") or [Customer.Status.ACTIVE])

    @property
    def sort(self) -> str:
        return self.cleaned.get("o") or DEFAULT_SORT

    @property
    def has_filters(self) -> bool:
        """True when an advanced filter has a value in the URL (the page then shows them opened)."""
        return any(
            value.strip() for name in self.filters if name not in ("q", "o") for value in self.data.getlist(name)
        )


ADVANCED = [name for name in CustomerFilter.base_filters if name not in ("q", "o")]


class SearchBoxForm(forms.Form):
    """The box and the sort alone, with CustomerFilter's own fields (same limits, same messages)."""

    q = CustomerFilter.base_filters["q"].field
    o = CustomerFilter.base_filters["o"].field


class SearchBox:
    """The search with no advanced filter set, as a CustomerFilter would read it, for a fifth
    of the cost: most searches are the box alone (or the box and a sort), and building the
    whole filterset (fourteen filters and a form of as many fields, deep-copied on every
    request) took 3.5 ms of them on the benchmark machine.

    :meth:`for_params` returns one only when it gives exactly what CustomerFilter would: no
    advanced filter has a value, the panel is not asked for open, and the box and the sort
    are valid (an error is shown by the whole form, panel included).
    """

    has_filters = False
    statuses = [Customer.Status.ACTIVE]

    def __init__(self, form: SearchBoxForm):
        self.form = form
        self.cleaned = form.cleaned_data
        self.queryset = Customer.objects.all()
        self.qs = self.queryset

    @classmethod
    def for_params(cls, query: QueryDict) -> "SearchBox | None":
        if "filters" in query or any(value.strip() for name in ADVANCED for value in query.getlist(name)):
            return None
        form = SearchBoxForm(query)
        return cls(form) if form.is_valid() else None

    @cached_property
    def terms(self) -> search.Terms | None:
        return search.parse(self.cleaned.get("q") or "", using=self.queryset.db)

    @property
    def sort(self) -> str:
        return self.cleaned.get("o") or DEFAULT_SORT


def as_querydict(params) -> QueryDict:
    """A QueryDict from request.GET, or from a plain dict (values may be lists) kept in a job's params."""
    if isinstance(params, QueryDict):
        return params
    query = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        query.setlist(key, [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)])
    return query


def params_for_job(querydict: QueryDict) -> dict[str, list[str]]:
    """The search's URL parameters as JSON for a job; filtered_customers takes them back."""
    return {key: values for key, values in querydict.lists() if key != "page"}


def _filtered(params) -> tuple["CustomerFilter | SearchBox", QuerySet, list]:
    """The filterset, the filtered queryset (box not applied yet) and the sort's ORDER BY terms."""
    query = as_querydict(params)
    filterset = SearchBox.for_params(query) or CustomerFilter(query, queryset=Customer.objects.all())
    statuses = filterset.statuses
    queryset = (
        filterset.qs.filter(status=statuses[0]) if len(statuses) == 1 else filterset.qs.filter(status__in=statuses)
    )
    queryset = queryset.select_related("owner")
    return filterset, queryset, order_by_for(filterset.sort)


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


def filtered_customers(params, user) -> tuple["CustomerFilter | SearchBox", QuerySet]:
    """The customers the search page shows for these URL parameters, in its order (unsliced).

    Applies the box, the advanced filters, "active only" unless statuses are chosen, and the
    sort, with exact matches first when the box is used. Invalid values are left out (the
    returned filterset carries their errors) rather than failing. ``user`` is who searches;
    every role that may view customers sees every card, so it only documents the caller.
    ``params`` is request.GET or a dict such as :func:`params_for_job` returns.
    """
    filterset, queryset, order = _filtered(params)
    return filterset, _exact_first_in_sql(queryset, filterset.terms, order)


def _exact_first_in_sql(queryset: QuerySet, terms: search.Terms | None, order: list) -> QuerySet:
    """The box's matches, exact ones first, sorted by the database (rank ``exact_match``: 0 or 1)."""
    if terms is not None:
        queryset = queryset.filter(terms.found)
        if terms.exact is not None:
            rank = Case(When(terms.exact, then=Value(0)), default=Value(1), output_field=IntegerField())
            queryset = queryset.annotate(exact_match=rank)
            order = [F("exact_match").asc(), *order]
    return queryset.order_by(*order)


def search_results(params, user) -> tuple["CustomerFilter | SearchBox", "QuerySet | ExactFirst | LastDigits"]:
    """What the search page pages through: the same rows in the same order as filtered_customers,
    read with queries that stay fast at a million cards (see LastDigits and ExactFirst)."""
    filterset, queryset, order = _filtered(params)
    queryset = reading_tag_names(queryset)
    terms = filterset.terms
    if terms is None:
        return filterset, queryset.order_by(*order)
    if terms.by_suffix is not None and filterset.sort == DEFAULT_SORT:
        return filterset, LastDigits(queryset, terms)
    if terms.few:
        # A full phone, an email, last digits sorted by a column: the matches are few, so one
        # query sorts them exact-first and counts them (COUNT(*) OVER ()) while reading the page;
        # SearchPaginator takes the count from the rows (one query instead of three).
        queryset = _exact_first_in_sql(queryset, terms, order)
        return filterset, queryset.annotate(found_count=Window(Count("pk")))
    # Part of a name: its matches may be many (王: 5% of all cards), see ExactFirst.
    return filterset, ExactFirst(queryset, terms, order, by_name_column=filterset.sort.lstrip("-") == "name")


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

    def __init__(self, queryset: QuerySet, terms: search.Terms, order: list, *, by_name_column: bool = False):
        self.queryset, self.terms, self.order = queryset, terms, order
        # Names containing 王 sorted by name sit together (王 is a surname) far down the name
        # index: walking it from the start in search of them reads most of the table (12 s at
        # a million). Sorting the matches themselves is bounded by their number instead.
        self.others_order = _without_index(order) if by_name_column and terms.by_name else order

    @property
    def newest_first(self) -> bool:
        return self.order == order_by_for(DEFAULT_SORT)

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
