"""The search page's box, advanced filters and sort, shared with the export.

:func:`filtered_customers` is the one place that turns URL parameters into customers: the
search page pages through its queryset and the export writes all of it, so an export holds
exactly what the search showed. :func:`search_results` gives the search page the same rows
in the same order, read in parts where one query would be slow (customers.results).
"""

import datetime as dt
from functools import cached_property

import django_filters
from django import forms
from django.db.models import Case, Count, F, IntegerField, QuerySet, Value, When, Window
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from crm import scopes, widgets
from crm.widgets import FastFilterModelChoiceField, FastFilterModelMultipleChoiceField

from . import also, extra_filters, places, search
from .forms import owner_choices, user_label
from .models import Customer, ImportBatch, Tag
from .results import COUNT_CAP, DrivenBy, ExactFirst, LastDigits, reading_tag_names

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


def source_choices() -> list[tuple[str, str]]:
    """The sources cards have (customers.places, cached), as the select's choices."""
    return [(source, source) for source in places.known_sources()]


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


class BatchFilter(django_filters.ModelChoiceFilter):
    field_class = FastFilterModelChoiceField


class TagFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = FastFilterModelMultipleChoiceField


class RegisteredFilter(django_filters.Filter):
    """A filter a higher app registered (customers.extra_filters), for a user who may use it."""

    def __init__(self, registered: extra_filters.ExtraFilter):
        super().__init__(field_name=registered.name)
        self.registered = registered

    @property
    def field(self):
        if not hasattr(self, "_field"):
            self._field = self.registered.field()
        return self._field

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return self.registered.apply(qs, value)


class CustomerFilter(django_filters.FilterSet):
    """The advanced filters. The box (q), the status default and the sort (o) are applied by
    :func:`filtered_customers`, so that they work the same for the page and the export. The
    filters higher apps register (customers.extra_filters) join them for a ``user`` who may use them."""

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
    city = django_filters.CharFilter(
        label=_("City"),
        method="filter_city",
        max_length=60,
        widget=widgets.TextInput,
        help_text=_("Any part of the city's name."),
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"), choices=source_choices, empty_label=_("Any"), widget=widgets.Select
    )
    batch = BatchFilter(
        label=_("Import batch"),
        field_name="import_batch",
        queryset=ImportBatch.objects.filter(kind=ImportBatch.Kind.CUSTOMERS),
        empty_label=_("Any"),
        help_text=_("The customers an import created."),
    )
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

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for registered in extra_filters.for_user(user):
            self.filters[registered.name] = RegisteredFilter(registered)
        self.form.fields["owner"].label_from_instance = user_label

    def later(self, queryset, name, value):
        return queryset

    def filter_city(self, queryset, name, value):
        """Cards whose city contains the text: an indexed ``city IN (...)`` of the matching cities
        (customers.places), never a substring scan of the table."""
        return queryset.filter(city__in=places.matching_cities(value, using=queryset.db))

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
        return _parse(self.cleaned.get("q") or "", self.queryset, self.user)

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


def advanced_names() -> list[str]:
    """The advanced filters' URL parameters: the search's own and those higher apps registered."""
    return [*ADVANCED, *extra_filters.names()]


def known_names() -> list[str]:
    """Every parameter of a search, in the filters' order: the box, the filters, the sort last."""
    return ["q", *advanced_names(), "o"]


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

    def __init__(self, form: SearchBoxForm, user=None):
        self.form = form
        self.cleaned = form.cleaned_data
        self.queryset = _visible(user)
        self.qs = self.queryset
        self.user = user

    @classmethod
    def for_params(cls, query: QueryDict, user=None) -> "SearchBox | None":
        if "filters" in query or any(value.strip() for name in advanced_names() for value in query.getlist(name)):
            return None
        form = SearchBoxForm(query)
        return cls(form, user) if form.is_valid() else None

    @cached_property
    def terms(self) -> search.Terms | None:
        return _parse(self.cleaned.get("q") or "", self.queryset, self.user)

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


def _filterset(query: QueryDict, user=None) -> "CustomerFilter | SearchBox":
    return SearchBox.for_params(query, user) or CustomerFilter(query, queryset=_visible(user), user=user)


def _parse(text: str, queryset, user) -> search.Terms | None:
    """The box, parsed for this user: one who sees only their own cards searches names on those."""
    own = user is not None and scopes.scope_of(user) == scopes.OWN
    return search.parse(text, using=queryset.db, within=scopes.q(user) if own else None)


def _visible(user):
    """The cards the search, its counts and its exports start from: those ``user``'s data scope
    shows (crm/scopes.py); all of them without a user (a command)."""
    return Customer.objects.all() if user is None else Customer.objects.visible_to(user)


def hides_matches(filterset: "CustomerFilter | SearchBox") -> bool:
    """True when the box has text and the status filter hides some status: then the page asks
    how many cards the hidden statuses hold (customers.also), else it never runs that count."""
    return filterset.terms is not None and bool(also.hidden_statuses(filterset.statuses))


def also_matching(params, user) -> tuple["CustomerFilter | SearchBox", "also.AlsoMatch | None"]:
    """The search's matches among the statuses it hides, counted per status (customers.also), or
    None when there is no text in the box or no status is hidden."""
    filterset = _filterset(as_querydict(params), user)
    if not hides_matches(filterset):
        return filterset, None
    hidden = also.hidden_statuses(filterset.statuses)
    return filterset, also.count_by_status(filterset.qs, filterset.terms, hidden, cap=COUNT_CAP)


def _filtered(params, user=None) -> tuple["CustomerFilter | SearchBox", QuerySet, list]:
    """The filterset, the filtered queryset (box not applied yet) and the sort's ORDER BY terms."""
    filterset = _filterset(as_querydict(params), user)
    statuses = filterset.statuses
    queryset = (
        filterset.qs.filter(status=statuses[0]) if len(statuses) == 1 else filterset.qs.filter(status__in=statuses)
    )
    queryset = queryset.select_related("owner")
    return filterset, queryset, order_by_for(filterset.sort)


def filtered_customers(params, user) -> tuple["CustomerFilter | SearchBox", QuerySet]:
    """The customers the search page shows for these URL parameters, in its order (unsliced).

    Applies the box, the advanced filters, "active only" unless statuses are chosen, and the
    sort, with exact matches first when the box is used. Invalid values are left out (the
    returned filterset carries their errors) rather than failing. ``user`` is who searches:
    every role that may view customers sees every card, but the filters higher apps register
    (customers.extra_filters) apply only for a user who holds their permission.
    ``params`` is request.GET, or the dict of lists a job keeps (customers.exports.search_params).
    """
    filterset, queryset, order = _filtered(params, user)
    return filterset, _exact_first_in_sql(queryset, filterset.terms, order)


def found_newest_first(params, user, *, before: int | None, limit: int):
    """The search's matches newest first: at most ``limit`` of them, with ids below ``before`` when
    given (the API's cursor pages, api.pagination). Returns (filterset, queryset of those rows).

    Without exact matches first: a page boundary in id order is all a cursor can hold. For a name of
    one or two characters, "name-gram match OR exact match" in one WHERE cannot use an index (the
    planner hashes every card with the character: 30 ms for 伟 at a million), so the two are read
    as two id lists in id order, each stopping at ``limit``, and merged. The last digits of a phone
    read their ids from the covering indexes first (at most COUNT_CAP of them; more: one query).
    """
    filterset, queryset, _order = _filtered(params, user)
    terms = filterset.terms
    below = queryset.filter(pk__lt=before) if before is not None else queryset
    if terms is not None and terms.by_suffix is not None:
        # The last digits of a phone: their ids from the covering indexes, as the page reads them
        # (LastDigits); one ordered query read each match's row from the table to check its status.
        ranked = LastDigits(below, terms).ranked_ids
        if len(ranked) <= COUNT_CAP:
            ids = sorted({pk for pk, _rank in ranked}, reverse=True)[:limit]
            return filterset, queryset.filter(pk__in=ids).order_by("-pk")
    if terms is None or terms.exact is None or not terms.in_id_order:
        found = below.filter(terms.found) if terms is not None else below
        ids = found.order_by("-pk").values_list("pk", flat=True)[:limit]
    else:
        streams = [
            below.filter(q).order_by("-pk").values_list("pk", flat=True)[:limit] for q in (terms.match, terms.exact)
        ]
        ids = sorted(set().union(*map(list, streams)), reverse=True)[:limit]
    return filterset, queryset.filter(pk__in=list(ids)).order_by("-pk")


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
    filterset, queryset, order = _filtered(params, user)
    queryset = reading_tag_names(queryset)
    terms = filterset.terms
    driver = _driver(filterset) if terms is None and filterset.sort == DEFAULT_SORT else None
    if driver is not None:
        return filterset, DrivenBy(queryset, driver)
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
    newest_first, by_name = filterset.sort == DEFAULT_SORT, filterset.sort.lstrip("-") == "name"
    return filterset, ExactFirst(queryset, terms, order, newest_first=newest_first, by_name_column=by_name)


def _driver(filterset: "CustomerFilter | SearchBox"):
    """The candidates (customers.extra_filters) of the first applied filter that has them, bound to
    its value: the search newest first reads its matches from them (customers.results.DrivenBy)."""
    if not isinstance(filterset, CustomerFilter):
        return None
    cleaned = filterset.cleaned
    for name, declared in filterset.filters.items():
        registered = getattr(declared, "registered", None)
        if registered is None or registered.candidates is None or cleaned.get(name) in EMPTY_VALUES:
            continue
        value = cleaned[name]
        return lambda before, limit: registered.candidates(value, before, limit)
    return None


def count_cap(filterset: "CustomerFilter | SearchBox") -> int:
    """How many results the search page counts before it says "More than ...": COUNT_CAP, or for
    the cards of one import batch all of them (at most the batch's ``created_count``: only the
    cards an import created join its batch), so "did all 7,043 arrive?" gets an exact answer. The
    count then reads the (import_batch, customer_since) index over at most that many entries; the
    unfiltered search keeps its cap. (A search by a phone's last digits keeps it too: its ids are
    read capped, customers.results.LastDigits.)"""
    batch = filterset.cleaned.get("batch")
    terms = filterset.terms
    if batch is None or (terms is not None and terms.by_suffix is not None):
        return COUNT_CAP
    return max(COUNT_CAP, batch.created_count)
