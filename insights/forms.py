"""The "At risk" list's filters, read from the URL (insights/views.py)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import scopes, widgets
from customers.models import Customer

from . import risk
from .models import RECENCY_KEY, WORTH_KEY, RiskWarning, Score, Segment

SORTS = [
    ("value", _("Value at risk")),
    ("risk", _("Risk")),
    ("worth", _("Expected value")),
    ("recency", _("Longest without a purchase")),
]
# Each order has its index (insights/models.py); customers without a purchase come last.
ORDERING = {
    "value": ("-value_at_risk", "-risk", "customer_id"),
    "risk": ("-risk", "customer_id"),
    "worth": (WORTH_KEY.desc(), "customer_id"),
    "recency": (RECENCY_KEY.desc(), "customer_id"),
}


class AtRiskFilter(forms.Form):
    band = forms.ChoiceField(
        label=_("Risk"),
        required=False,
        choices=[
            ("", _("Medium or high risk")),
            *((key, label) for _lowest, key, label in risk.BANDS),
            ("all", _("Any risk")),
        ],
        widget=widgets.Select,
    )
    segment = forms.ChoiceField(
        label=_("RFM segment"),
        required=False,
        choices=[("", _("Any segment")), *Segment.choices],
        widget=widgets.Select,
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False, widget=widgets.Select)
    # Warnings raised or turned high lately (RiskWarning.alerted_at): the inbox and the digest link here.
    new = forms.ChoiceField(
        label=_("Newly at risk"),
        required=False,
        choices=[("", _("Any time")), ("1", _("In the last 24 hours")), ("7", _("In the last 7 days"))],
        widget=widgets.Select,
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORTS, widget=widgets.Select)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owners = get_user_model().objects.filter(is_active=True).order_by("username").values_list("pk", "username")
        self.fields["owner"].choices = [("", _("Any owner")), *((str(pk), name) for pk, name in owners)]

    def narrowed(self, scores):
        """``scores`` narrowed and ordered as the valid filters say (the defaults when none is valid)."""
        data = self.cleaned_data if self.is_valid() else {}
        band = data.get("band") or ""
        lowest = {key: lowest for lowest, key, _label in risk.bands()}
        if band == "":
            scores = scores.filter(risk__gte=lowest["medium"])
        elif band != "all":
            upper = {"low": lowest["medium"], "medium": lowest["high"]}.get(band)
            scores = scores.filter(risk__gte=lowest[band], **({"risk__lt": upper} if upper is not None else {}))
        if data.get("segment"):
            scores = scores.filter(segment=data["segment"])
        if data.get("owner"):
            scores = scores.filter(customer__owner_id=int(data["owner"]))
        if data.get("new"):
            since = timezone.now() - timedelta(days=int(data["new"]))
            alerted = RiskWarning.objects.filter(cleared_on=None, alerted_at__gte=since)
            scores = scores.filter(customer_id__in=alerted.values("customer_id"))
        return scores.order_by(*ORDERING[data.get("sort") or "value"])


def at_risk_scores(filters: AtRiskFilter, user) -> QuerySet:
    """The scores the "At risk" list shows ``user`` for its ``filters`` (the URL's), in its order, on
    the cards in their data scope (crm/scopes.py): the page reads them a page at a time, the export
    (insights/exports.py) all of them."""
    scores = scopes.visible(Score.objects.filter(customer__status=Customer.Status.ACTIVE), user)
    return filters.narrowed(scores)
