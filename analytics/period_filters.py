"""What the dashboards built on a plain form share (the service dashboard, the churn-warning
dashboard): the period fields with their checks, and the filter object around the form — the
valid filters only (an invalid one is ignored and shown with its error next to the field), the
period as local dates, and the query string that repeats them in links.

    class MyForm(PeriodForm): ...more fields...
    class MyFilter(PeriodFilter):
        form_class, params_order, defaults = MyForm, ("period", "start", "end", ...), {"grain": "month"}
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import widgets
from crm.routers import reporting_db

from .filters import DEFAULT_PERIOD, FIRST_YEAR, LAST_YEAR, PERIOD_CHOICES, ChosenPeriod, local_today


class PeriodForm(forms.Form):
    """The period: a preset, or custom dates within the years the dashboards know."""

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


class PeriodFilter(ChosenPeriod):
    """A dashboard's filters around its ``form_class`` (a PeriodForm); ``params_order`` are the URL's
    parameters in order, ``defaults`` the values a link leaves out."""

    form_class: type[PeriodForm] = PeriodForm
    params_order: tuple[str, ...] = ("period", "start", "end")
    defaults: dict[str, str] = {}

    def __init__(self, data=None, *, today: date | None = None, using: str | None = None):
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = "custom" if (data.get("start") or data.get("end")) else DEFAULT_PERIOD
        self.db = using or reporting_db()
        self.form = self.make_form(data)
        self.today = today or local_today()

    def make_form(self, data) -> PeriodForm:
        return self.form_class(data)

    def is_valid(self) -> bool:
        return self.form.is_valid()

    @property
    def cleaned(self) -> dict:
        self.form.is_valid()
        return {k: v for k, v in self.form.cleaned_data.items() if k not in self.form.errors}

    def params(self) -> dict[str, str]:
        data, params = self.cleaned, {}
        for name in self.params_order:
            value = data.get(name)
            if value in (None, "") or (name in ("start", "end") and self.period_key != "custom"):
                continue
            if self.defaults.get(name) == value:
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

    def period_row(self) -> tuple[str, str]:
        """The period in words, the first line of ``describe``."""
        return (gettext("Period"), f"{dict(PERIOD_CHOICES)[self.period_key]} ({self.dates.describe()})")
