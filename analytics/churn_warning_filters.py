"""The churn-warning dashboard's filters, read from the query string: the period (the closure
dashboard's presets and custom dates, as local dates), the card's owner and RFM segment, and which
closures the closure panels count (the "close" action by default, or every action). The page and
each of its panels build one ``ChurnWarningFilter`` from the same parameters, so they agree."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import widgets
from crm.routers import reporting_db
from insights.models import Segment

from .filters import (
    DEFAULT_PERIOD,
    FIRST_YEAR,
    LAST_YEAR,
    PERIOD_CHOICES,
    Period,
    PersonChoiceField,
    _people,
    local_today,
    resolve_period,
)

CLOSE, ALL = "close", "all"
ACTION_CHOICES = [(CLOSE, _("Closed cards only")), (ALL, _("Every closure (closed, void, archived)"))]
PARAMS = ("period", "start", "end", "owner", "segment", "action")


class ChurnWarningFilterForm(forms.Form):
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
    owner = PersonChoiceField(label=_("Owner"), queryset=_people(), required=False, empty_label=_("All owners"))
    segment = forms.ChoiceField(
        label=_("RFM segment"),
        choices=[("", _("All segments")), *Segment.choices],
        required=False,
        widget=widgets.Select,
    )
    action = forms.ChoiceField(
        label=_("Closures counted"),
        choices=ACTION_CHOICES,
        required=False,
        widget=widgets.Select,
        help_text=_("For the value lost and the early warning."),
    )

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


class ChurnWarningFilter:
    """What the churn-warning dashboard shows: the valid filters (an invalid one is ignored and shown
    with its error next to the field), the period as local dates, links that repeat them."""

    def __init__(self, data=None, *, today: date | None = None, using: str | None = None):
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = "custom" if (data.get("start") or data.get("end")) else DEFAULT_PERIOD
        self.db = using or reporting_db()
        self.form = ChurnWarningFilterForm(data)
        self.form.fields["owner"].queryset = _people().using(self.db)
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
    def owner_id(self) -> int | None:
        owner = self.cleaned.get("owner")
        return owner.pk if owner else None

    @property
    def segment(self) -> str:
        return self.cleaned.get("segment") or ""

    @property
    def every_action(self) -> bool:
        return self.cleaned.get("action") == ALL

    def params(self) -> dict[str, str]:
        data, params = self.cleaned, {}
        for name in PARAMS:
            value = data.get(name)
            if value in (None, "") or (name in ("start", "end") and self.period_key != "custom"):
                continue
            if name == "action" and value == CLOSE:
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
        for name in ("owner", "segment", "action"):
            field, value = self.form.fields[name], data.get(name)
            if name == "owner":
                text = field.label_from_instance(value) if value else str(field.empty_label)
            else:
                text = str(dict(field.choices).get(value or ("" if name == "segment" else CLOSE), value))
            rows.append((str(field.label), text))
        return rows
