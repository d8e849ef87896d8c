"""The one set of filters behind the dashboard, the closure list and the exports.

All three build a ``ClosureFilter`` from the same query string, so a number on the
dashboard, the rows of the list behind it and the rows of the exported file are always
the same closures.

Periods are ranges of *local* dates (settings.TIME_ZONE); the database stores UTC. A
period runs from local midnight of its first day to local midnight after its last day,
so a closure at 23:30 Shanghai time on 31 January (15:30 UTC) belongs to January.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from closures import categories, tally
from closures.models import Action, Closure, ClosureReason
from crm import scopes, widgets
from crm.routers import reporting_db
from crm.widgets import FastModelChoiceField
from customers.models import Customer, ImportBatch, Tag

from . import population

DEFAULT_PERIOD = "12m"
PERIOD_CHOICES = [
    ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")),
    ("year", _("This year")),
    ("12m", _("Last 12 months (up to today)")),
    ("all", _("All time")),
    ("custom", _("Custom dates")),
]

# (key, label, lowest tenure in days, first tenure in days no longer in the band): the keys and
# limits are closures' (the tallies count by band), the labels are the dashboard's.
_BAND_LABELS = {
    "lt3m": _("Under 3 months"),
    "3to12m": _("3–12 months"),
    "1to2y": _("1–2 years"),
    "2to3y": _("2–3 years"),
    "gt3y": _("Over 3 years"),
}
TENURE_BANDS = [(key, _BAND_LABELS[key], low, high) for key, low, high in tally.TENURE_BANDS]
TENURE_LABELS = {key: label for key, label, _lo, _hi in TENURE_BANDS}

# Dates outside these years are refused: they cannot be turned into UTC timestamps safely.
FIRST_YEAR, LAST_YEAR = 1900, 2999

# The filter parameters that belong in a link or a job; page and sort stay with the list.
PARAMS = (
    "period",
    "start",
    "end",
    "compare",
    "action",
    "category",
    "reason",
    "segment",
    "owner",
    "tag",
    "city",
    "source",
    "batch",
    "by",
    "tenure",
    "reverted",
)

# The filters the heading and the export's Summary sheet describe, in this order.
DESCRIBED = ("action", "category", "reason", "segment", "owner", "tag", "city", "source", "batch", "by", "tenure")

COMPARE_CHOICES = [
    ("previous", _("The period just before")),
    ("year", _("The same period a year earlier")),
]


def local_midnight(day: date) -> datetime:
    """The aware moment a local date begins in the configured time zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def local_today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


@dataclass(frozen=True)
class Period:
    """Local dates ``first``..``last`` (both included); ``first`` is None for all time."""

    first: date | None
    last: date

    @property
    def start(self) -> datetime | None:
        return local_midnight(self.first) if self.first else None

    @property
    def end(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int | None:
        return (self.last - self.first).days + 1 if self.first else None

    def previous(self) -> "Period | None":
        """The period of equal length just before this one (None for all time)."""
        if self.first is None:
            return None
        last = self.first - timedelta(days=1)
        return Period(first=last - timedelta(days=self.days - 1), last=last)

    def year_earlier(self) -> "Period | None":
        """The same dates a year earlier (29 February becomes the 28th; None for all time):
        churn is seasonal, so this is the comparison that means something for a short period."""
        if self.first is None:
            return None
        return Period(first=_year_before(self.first), last=_year_before(self.last))

    def describe(self) -> str:
        last = date_format(self.last, "SHORT_DATE_FORMAT")
        if self.first is None:
            return gettext("up to %(last)s") % {"last": last}
        return f"{date_format(self.first, 'SHORT_DATE_FORMAT')} – {last}"


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def resolve_period(key: str, *, today: date, first: date | None = None, last: date | None = None) -> Period:
    """Turn a period choice (and custom dates) into local dates."""
    if key == "30d":
        return Period(today - timedelta(days=29), today)
    if key == "90d":
        return Period(today - timedelta(days=89), today)
    if key == "year":
        return Period(today.replace(month=1, day=1), today)
    if key == "all":
        return Period(None, today)
    if key == "custom":
        last = last or max(today, first or today)
        return Period(first, last)
    # Last 12 months: the twelve months up to and including today (on 5 December 2026:
    # 6 December 2025 to 5 December 2026), not "this year".
    return Period(_year_before(today) + timedelta(days=1), today)


def person_name(first: str, last: str, username: str) -> str:
    return f"{first or ''} {last or ''}".strip() or (username or "")


class ChosenPeriod:
    """``period_key`` and ``dates`` of a dashboard's filters, from their ``cleaned`` values and ``today``
    (the closure dashboard's FilterSet and analytics.period_filters.PeriodFilter share them)."""

    today: date

    @property
    def period_key(self) -> str:
        data = self.cleaned
        key = data.get("period") or DEFAULT_PERIOD
        if key == "custom" and not (data.get("start") or data.get("end")):
            return DEFAULT_PERIOD
        return key

    @property
    def dates(self) -> Period:
        data = self.cleaned
        return resolve_period(self.period_key, today=self.today, first=data.get("start"), last=data.get("end"))


class ReasonChoiceField(FastModelChoiceField):
    """Every reason, retired ones too: old closures keep them and must stay findable."""

    def label_from_instance(self, obj):
        if obj.is_active:
            return obj.label
        return gettext("%(label)s (retired)") % {"label": obj.label}


class PersonChoiceField(FastModelChoiceField):
    def label_from_instance(self, obj):
        return person_name(obj.first_name, obj.last_name, obj.get_username())


class ReasonFilter(django_filters.ModelChoiceFilter):
    field_class = ReasonChoiceField


class CheckboxFilter(django_filters.Filter):
    field_class = forms.BooleanField


class PersonFilter(django_filters.ModelChoiceFilter):
    field_class = PersonChoiceField


def _people():
    # Only what a label needs: the dates and password of 45 users were half the select's cost.
    fields = ("id", "username", "first_name", "last_name")
    return get_user_model().objects.order_by("first_name", "last_name", "username").only(*fields)


class ClosureFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        for name in ("start", "end"):
            day = data.get(name)
            if day and not FIRST_YEAR <= day.year <= LAST_YEAR:
                self.add_error(
                    name, _("Enter a date between %(first)s and %(last)s.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
                )
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date is before the start date."))
        if data.get("period") == "custom" and not (data.get("start") or data.get("end")) and not self.errors:
            self.add_error("start", _("Enter a start date, an end date or both for a custom period."))
        return data


def _keep(queryset, name, value):
    """Period, dates and "include reverted" are applied together in ClosureFilter.filter_queryset."""
    return queryset


class ClosureFilter(ChosenPeriod, django_filters.FilterSet):
    period = django_filters.ChoiceFilter(
        label=_("Period"), choices=PERIOD_CHOICES, method=_keep, empty_label=None, widget=widgets.Select
    )
    start = django_filters.DateFilter(
        label=_("From"),
        method=_keep,
        widget=widgets.DateInput(attrs={"type": "date"}),
        help_text=_("For custom dates."),
    )
    end = django_filters.DateFilter(
        label=_("To"), method=_keep, widget=widgets.DateInput(attrs={"type": "date"}), help_text=_("For custom dates.")
    )
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=Action.choices, empty_label=_("All actions"), widget=widgets.Select
    )
    category = django_filters.ChoiceFilter(
        label=_("Reason category"),
        choices=lambda: categories.choices(using=reporting_db()),
        empty_label=_("All categories"),
        widget=widgets.Select,
    )
    reason = ReasonFilter(
        label=_("Reason"),
        queryset=ClosureReason.objects.order_by("-is_active", "display_order", "id"),
        empty_label=_("All reasons"),
    )
    segment = django_filters.ChoiceFilter(
        label=_("Customer segment"),
        choices=Customer.Segment.choices,
        empty_label=_("All segments"),
        widget=widgets.Select,
    )
    owner = PersonFilter(label=_("Owner"), queryset=_people(), empty_label=_("All owners"))
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"), queryset=Tag.objects.order_by("name"), empty_label=_("All tags"), method="filter_card"
    )
    city = django_filters.CharFilter(
        label=_("City"), method="filter_card", help_text=_("Any part of the name."), widget=widgets.TextInput
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"),
        choices=lambda: [(s, s) for s in population.known_sources(using=reporting_db())],
        empty_label=_("All sources"),
        method="filter_card",
        widget=widgets.Select,
    )
    batch = django_filters.ModelChoiceFilter(
        label=_("Import batch"),
        queryset=ImportBatch.objects.order_by("-created_at", "-id"),
        empty_label=_("All cards"),
        method="filter_card",
    )
    by = PersonFilter(label=_("Performed by"), field_name="performed_by", queryset=_people(), empty_label=_("Everyone"))
    tenure = django_filters.ChoiceFilter(
        label=_("Tenure"),
        choices=[(key, label) for key, label, _lo, _hi in TENURE_BANDS],
        method="filter_tenure",
        empty_label=_("Any tenure"),
        widget=widgets.Select,
    )
    reverted = CheckboxFilter(label=_("Include reverted closures"), method=_keep, widget=widgets.CheckboxInput)
    compare = django_filters.ChoiceFilter(
        label=_("Compare with"), choices=COMPARE_CHOICES, method=_keep, empty_label=None, widget=widgets.Select
    )

    class Meta:
        model = Closure
        fields: list[str] = []
        form = ClosureFilterForm

    def __init__(self, data=None, *args, today: date | None = None, user=None, **kwargs):
        """``user``: whose data scope (crm/scopes.py) narrows every figure and row to the cards they
        see; None for every card (a job or command working for the whole company)."""
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            # No period chosen: custom when dates were given, else the default, shown as selected.
            data["period"] = "custom" if (data.get("start") or data.get("end")) else DEFAULT_PERIOD
        if not args:
            # Heavy reads go to the read replica when one is configured (crm/routers.py).
            kwargs.setdefault("queryset", Closure.objects.using(reporting_db()))
        super().__init__(data, *args, **kwargs)
        self.today = today or local_today()
        self.scope = None if user is None else scopes.owners(user)

    # --- what the filters mean ---------------------------------------------------------
    @property
    def cleaned(self) -> dict:
        """The filters' values, and ``scope``: the owners whose cards the viewer sees (a population
        filter, analytics/population.py), absent when they see every card."""
        self.form.is_valid()
        if self.scope is None:
            return self.form.cleaned_data
        if "_cleaned" not in self.__dict__:  # a copy: django-filter applies every key of the form's own
            self._cleaned = {**self.form.cleaned_data, "scope": self.scope}
        return self._cleaned

    @property
    def include_reverted(self) -> bool:
        return bool(self.cleaned.get("reverted"))

    @property
    def comparison(self) -> Period | None:
        """The period the figures are compared with: the one just before, or a year earlier."""
        if self.cleaned.get("compare") == "year":
            return self.dates.year_earlier()
        return self.dates.previous()

    def filter_card(self, queryset, name, value):
        """Tag, city, source and import batch are applied together (``card_closures``)."""
        return queryset

    def population(self, params=population.CARD_ONLY) -> population.Population:
        """The cards the card filters in ``params`` select (their closures, their "customer since"),
        worked out once per filter set: every figure of a page reuses it."""
        cache = self.__dict__.setdefault("_populations", {})
        data = {name: self.cleaned.get(name) for name in params if self.cleaned.get(name) not in (None, "")}
        key = tuple(sorted(data))  # the same cards whichever list asked for them
        if key not in cache:
            cache[key] = population.Population(data, using=self.queryset.db)
        return cache[key]

    def _with_cards(self, queryset):
        q = self.population().closures
        return queryset if q is None else queryset.filter(q)

    def filter_tenure(self, queryset, name, value):
        for key, _label, low, high in TENURE_BANDS:
            if key == value:
                queryset = queryset.filter(tenure_days__gte=low)
                return queryset.filter(tenure_days__lt=high) if high is not None else queryset
        return queryset

    def slice_qs(self):
        """Every filter except the period and the reverted rule (for previous periods and reinstatements)."""
        self.form.is_valid()
        return self._with_cards(super().filter_queryset(self.queryset.all()))

    def filter_queryset(self, queryset):
        queryset = self._with_cards(super().filter_queryset(queryset))
        if not self.include_reverted:
            queryset = queryset.filter(reverted_at__isnull=True)
        period = self.dates
        if period.start is not None:
            queryset = queryset.filter(performed_at__gte=period.start)
        return queryset.filter(performed_at__lt=period.end)

    # --- links and descriptions --------------------------------------------------------
    def params(self) -> dict[str, str]:
        """The valid filter values as URL parameters (what a link or a job needs to repeat this view).

        Computed once per filter set (a dashboard builds a link for every bar from it); each
        call returns a fresh copy that the caller may change.
        """
        if getattr(self, "_params", None) is None:
            self._params = self._build_params()
        return dict(self._params)

    def _build_params(self) -> dict[str, str]:
        data = self.cleaned
        params = {}
        for name in PARAMS:
            value = data.get(name)
            if value in (None, "", False) or (name in ("start", "end") and self.period_key != "custom"):
                continue
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, bool):
                value = "1"
            elif hasattr(value, "pk"):
                value = value.pk
            params[name] = str(value)
        return params

    def query(self, **overrides) -> str:
        """This view's query string with some filters replaced (None removes one)."""
        params = self.params()
        for name, value in overrides.items():
            if value is None or value == "":
                params.pop(name, None)
            else:
                params[name] = str(value)
        return urlencode(params)

    def _describe(self, name: str) -> str:
        value = self.cleaned.get(name)
        field = self.form.fields[name]
        if value in (None, ""):
            return str(getattr(field, "empty_label", None) or gettext("All"))
        if hasattr(field, "label_from_instance"):
            return field.label_from_instance(value)
        if name == "city":
            return value
        return str(dict(field.choices).get(value, value))

    @property
    def population_text(self) -> str:
        """The card filters in words ("Tag: VIP; Import batch: telco.csv"), empty for every card."""
        return "; ".join(
            f"{self.form.fields[name].label}: {self._describe(name)}"
            for name in population.PARAMS
            if name in self.form.fields and self.cleaned.get(name) not in (None, "")
        )

    def describe(self) -> list[tuple[str, str]]:
        """The filters in words, for the dashboard heading and the export's Summary sheet."""
        period = self.dates
        rows = [(gettext("Period"), f"{dict(PERIOD_CHOICES)[self.period_key]} ({period.describe()})")]
        for name in DESCRIBED:
            rows.append((str(self.form.fields[name].label), self._describe(name)))
        if self.scope is not None:
            rows.append((gettext("Cards"), gettext("Only the cards in your data scope")))
        reverted = gettext("Included") if self.include_reverted else gettext("Excluded")
        rows.append((gettext("Reverted closures"), reverted))
        comparison = self.comparison
        if comparison is not None:
            compare = dict(COMPARE_CHOICES)[self.cleaned.get("compare") or "previous"]
            rows.append((gettext("Compared with"), f"{compare} ({comparison.describe()})"))
        return rows
