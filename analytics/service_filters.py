"""The service dashboard's filters, read from the query string: the period (the closure dashboard's
presets and custom dates, as local dates), the ticket's category, channel, team and priority, and
the grain of the charts over time (month or week). The dashboard, its htmx part and its export
build one ``ServiceFilter`` from the same parameters, so they describe the same tickets."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import widgets
from crm.models import Team
from crm.routers import reporting_db
from service.models import Category, Channel, Priority

from .filters import DEFAULT_PERIOD, FIRST_YEAR, LAST_YEAR, PERIOD_CHOICES, Period, local_today, resolve_period

GRAINS = [("month", _("By month")), ("week", _("By week"))]
PARAMS = ("period", "start", "end", "category", "channel", "team", "priority", "grain")
# The filters on the ticket (the dashboard's dimensions), in the order they are described.
DIMENSIONS = ("category", "channel", "team", "priority")


class TeamChoiceField(widgets.FastModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class CategoryChoiceField(widgets.FastModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label if obj.active else gettext("%(label)s (retired)") % {"label": obj.label}


class ServiceFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False, widget=widgets.Select)
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=widgets.DateInput(attrs={"type": "date"}),
        help_text=_("For custom dates."),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=widgets.DateInput(attrs={"type": "date"}),
        help_text=_("For custom dates."),
    )
    category = CategoryChoiceField(
        label=_("Ticket category"), queryset=Category.objects.none(), required=False, empty_label=_("All categories")
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All channels")), *Channel.choices], required=False, widget=widgets.Select
    )
    team = TeamChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("All teams"))
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=[("", _("All priorities")), *Priority.choices],
        required=False,
        widget=widgets.Select,
    )
    grain = forms.ChoiceField(label=_("Over time"), choices=GRAINS, required=False, widget=widgets.Select)

    def __init__(self, *args, using: str = "default", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.using(using).order_by("-active", "position", "pk")
        self.fields["team"].queryset = Team.objects.using(using).order_by("-active", "name_en", "pk")

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
        return data


class ServiceFilter:
    """What the service dashboard shows: the valid filters (invalid ones are ignored and shown
    with their error next to the field), the period as local dates, links that repeat them."""

    def __init__(self, data=None, *, today: date | None = None, using: str | None = None):
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = "custom" if (data.get("start") or data.get("end")) else DEFAULT_PERIOD
        self.db = using or reporting_db()
        self.form = ServiceFilterForm(data, using=self.db)
        self.today = today or local_today()

    def is_valid(self) -> bool:
        return self.form.is_valid()

    @property
    def cleaned(self) -> dict:
        self.form.is_valid()
        return {k: v for k, v in self.form.cleaned_data.items() if k not in self.form.errors}

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

    @property
    def grain(self) -> str:
        return self.cleaned.get("grain") or "month"

    def dimensions(self) -> dict:
        """The ticket filters as summary/ticket column values: {"category_id": 3, "team": 2, ...}."""
        data, out = self.cleaned, {}
        if data.get("category"):
            out["category_id"] = data["category"].pk
        if data.get("channel"):
            out["channel"] = data["channel"]
        if data.get("team"):
            out["team"] = data["team"].pk
        if data.get("priority"):
            out["priority"] = data["priority"]
        return out

    def ticket_filters(self) -> dict:
        """The same filters on the ticket table."""
        return {("team_id" if k == "team" else k): v for k, v in self.dimensions().items()}

    def params(self) -> dict[str, str]:
        data, params = self.cleaned, {}
        for name in PARAMS:
            value = data.get(name)
            if value in (None, "") or (name in ("start", "end") and self.period_key != "custom"):
                continue
            if name == "grain" and value == "month":
                continue
            params[name] = value.isoformat() if isinstance(value, date) else str(getattr(value, "pk", value))
        return params

    def query(self, **overrides) -> str:
        params = self.params()
        for name, value in overrides.items():
            if value is None or value == "":
                params.pop(name, None)
            else:
                params[name] = str(value)
        return urlencode(params)

    def describe(self) -> list[tuple[str, str]]:
        """The filters in words, for the page's heading and the export."""
        rows = [(gettext("Period"), f"{dict(PERIOD_CHOICES)[self.period_key]} ({self.dates.describe()})")]
        data = self.cleaned
        for name in DIMENSIONS:
            field, value = self.form.fields[name], data.get(name)
            if value in (None, ""):
                text = str(getattr(field, "empty_label", None) or dict(field.choices).get("", gettext("All")))
            elif hasattr(field, "label_from_instance"):
                text = field.label_from_instance(value)
            else:
                text = str(dict(field.choices).get(value, value))
            rows.append((str(field.label), text))
        return rows
