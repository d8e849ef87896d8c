"""The service dashboard's filters, read from the query string: the period (the closure dashboard's
presets and custom dates, as local dates), the ticket's category, channel, team and priority, and
the grain of the charts over time (month or week). The dashboard, its htmx part and its export
build one ``ServiceFilter`` from the same parameters, so they describe the same tickets."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import scopes, widgets
from crm.models import Team
from service.models import Category, Channel, Priority

from .period_filters import PeriodFilter, PeriodForm

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


class ServiceFilterForm(PeriodForm):
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


class ServiceFilter(PeriodFilter):
    """What the service dashboard shows: the valid filters (invalid ones are ignored and shown
    with their error next to the field), the period as local dates, links that repeat them."""

    form_class, params_order, defaults = ServiceFilterForm, PARAMS, {"grain": "month"}

    def __init__(self, data=None, *, user=None, scope=None, **kwargs):
        """``user``: whose data scope (crm/scopes.py) narrows every figure to the tickets of the
        cards they see (``scope``: those cards' owners, None for every card; given directly by the
        closure export, which has it already)."""
        super().__init__(data, **kwargs)
        self.scope = scopes.owners(user) if user is not None else scope

    def make_form(self, data) -> ServiceFilterForm:
        return ServiceFilterForm(data, using=self.db)

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

    def summary_filters(self) -> dict:
        """The filters on the summary tables: the dimensions, and the data scope's owners (only the
        owner tables have them: analytics/service.py reads those for a scoped reader)."""
        dims = self.dimensions()
        return dims if self.scope is None else {**dims, "owner_key__in": self.scope}

    def ticket_filters(self) -> dict:
        """The same filters on the ticket table (the data scope apart: ``card_filters``)."""
        return {("team_id" if k == "team" else k): v for k, v in self.dimensions().items()}

    def card_filters(self, via: str = "customer__") -> dict:
        """The data scope on a table that reaches the card through ``via`` (nothing without one)."""
        return {} if self.scope is None else {f"{via}owner_id__in": self.scope}

    def describe(self) -> list[tuple[str, str]]:
        """The filters in words, for the page's heading and the export."""
        rows, data = [self.period_row()], self.cleaned
        for name in DIMENSIONS:
            field, value = self.form.fields[name], data.get(name)
            if value in (None, ""):
                text = str(getattr(field, "empty_label", None) or dict(field.choices).get("", gettext("All")))
            elif hasattr(field, "label_from_instance"):
                text = field.label_from_instance(value)
            else:
                text = str(dict(field.choices).get(value, value))
            rows.append((str(field.label), text))
        if self.scope is not None:
            rows.append((gettext("Cards"), gettext("Only the cards in your data scope")))
        return rows
