"""The churn-warning dashboard's filters, read from the query string: the period (the closure
dashboard's presets and custom dates, as local dates), the card's owner and RFM segment, and which
closures the closure panels count (the "close" action by default, or every action). The page and
each of its panels build one ``ChurnWarningFilter`` from the same parameters, so they agree."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import scopes, widgets
from insights.models import Segment

from .filters import PersonChoiceField, _people
from .period_filters import PeriodFilter, PeriodForm

CLOSE, ALL = "close", "all"
ACTION_CHOICES = [(CLOSE, _("Closed cards only")), (ALL, _("Every closure (closed, void, archived)"))]
PARAMS = ("period", "start", "end", "owner", "segment", "action")


class ChurnWarningFilterForm(PeriodForm):
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


class ChurnWarningFilter(PeriodFilter):
    """What the churn-warning dashboard shows: the valid filters (an invalid one is ignored and shown
    with its error next to the field), the period as local dates, links that repeat them."""

    form_class, params_order, defaults = ChurnWarningFilterForm, PARAMS, {"action": CLOSE}

    def __init__(self, data=None, *, user=None, **kwargs):
        """``user``: whose data scope (crm/scopes.py) narrows every panel to the cards of the owners
        they see (``scope``: None for every card)."""
        super().__init__(data, **kwargs)
        self.scope = None if user is None else scopes.owners(user)

    def make_form(self, data) -> ChurnWarningFilterForm:
        form = ChurnWarningFilterForm(data)
        form.fields["owner"].queryset = _people().using(self.db)
        return form

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

    def describe(self) -> list[tuple[str, str]]:
        """The filters in words, for the page's heading and the export."""
        rows, data = [self.period_row()], self.cleaned
        for name in ("owner", "segment", "action"):
            field, value = self.form.fields[name], data.get(name)
            if name == "owner":
                text = field.label_from_instance(value) if value else str(field.empty_label)
            else:
                text = str(dict(field.choices).get(value or ("" if name == "segment" else CLOSE), value))
            rows.append((str(field.label), text))
        if self.scope is not None:
            rows.append((gettext("Cards"), gettext("Only the cards in your data scope")))
        return rows
