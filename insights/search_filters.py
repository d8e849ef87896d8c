"""The customer search's filters by risk band, RFM segment and value band (customers.extra_filters,
registered in InsightsConfig.ready for whoever holds insights.view_score).

Each narrows the cards by their stored score (Score is one-to-one with the card by its key, so a
filter is a join on the primary key). The risk band is stored with the score as the run that wrote
it read the bands (INSIGHTS_RISK_BANDS: a change shows once a run has rescored the cards, as the
field's help says). The risk and segment filters give the search their **candidates**: the cards
of the band (segment) newest first, from the indexes score_band_customer and
score_segment_customer, so the search newest first reads its page from them (customers.results.DrivenBy)
instead of walking every card from the newest: cards at high risk are mostly old ones, and that
walk crossed 250,000 cards (0.18 s at a million).

"No value" keeps the cards without a score too, through the outer join. There is no "not scored"
risk: every active card is scored within a run of its change (15 minutes), so the filter found
next to nothing, and finding nothing among a million cards meant reading them all (0.76 s). Bad
values are left out by the form, as the search's own.

**Value bands** are the expected value over the next 12 months against fixed amounts in settings,
``INSIGHTS_VALUE_BANDS = (1000, 200)``: high from 1,000, medium from 200, low below (with a value),
"no value" without one (no purchase yet, or no purchase model). Fixed amounts read the same from
one night to the next, unlike quintiles that move with every run; the Admins' scoring settings page
shows them.
"""

from __future__ import annotations

import heapq

from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm import widgets
from crm.formatting import money

from . import risk
from .models import Score, Segment

PERMISSION = "insights.view_score"
DEFAULT_VALUE_BANDS = (1000, 200)


def value_bands() -> tuple[int, int]:
    """(high from, medium from): the expected value over 12 months at which each band starts."""
    high, medium = getattr(settings, "INSIGHTS_VALUE_BANDS", None) or DEFAULT_VALUE_BANDS
    if not 0 < medium < high:
        raise ImproperlyConfigured("INSIGHTS_VALUE_BANDS: (high from, medium from) with 0 < medium from < high from.")
    return high, medium


def value_band_choices() -> list[tuple[str, str]]:
    high, medium = value_bands()
    return [
        ("high", _("High value: %(amount)s or more") % {"amount": money(high)}),
        ("medium", _("Medium value: %(low)s to %(high)s") % {"low": money(medium), "high": money(high)}),
        ("low", _("Low value: below %(amount)s") % {"amount": money(medium)}),
        ("none", _("No expected value")),
    ]


def risk_choices() -> list[tuple[str, str]]:
    labels = {key: label for _lowest, key, label in risk.bands()}
    return [
        ("", _("Any")),
        ("high", labels["high"]),
        ("medium", labels["medium"]),
        ("low", labels["low"]),
        ("medium_high", _("Medium or high risk")),
    ]


def risk_field() -> forms.Field:
    return forms.ChoiceField(
        label=_("Churn risk"),
        required=False,
        choices=risk_choices(),
        widget=widgets.Select,
        help_text=_("As the last scoring run left it."),
    )


def segment_field() -> forms.Field:
    return forms.ChoiceField(
        label=_("RFM segment"), required=False, choices=[("", _("Any")), *Segment.choices], widget=widgets.Select
    )


def value_field() -> forms.Field:
    return forms.ChoiceField(
        label=_("Expected value"),
        required=False,
        choices=[("", _("Any")), *value_band_choices()],
        widget=widgets.Select,
        help_text=_("What the customer is expected to spend in the next 12 months."),
    )


RISK_BANDS = {"high": ["high"], "medium": ["medium"], "low": ["low"], "medium_high": ["medium", "high"]}


def by_risk(customers, value: str):
    bands = RISK_BANDS[value]
    return customers.filter(score__band__in=bands) if len(bands) > 1 else customers.filter(score__band=bands[0])


def _newest(scores, before: int | None, limit: int) -> list[int]:
    if before is not None:
        scores = scores.filter(customer_id__lt=before)
    return list(scores.order_by("-customer_id").values_list("customer_id", flat=True)[:limit])


def risk_candidates(value: str, before: int | None, limit: int) -> list[int]:
    """The cards of the chosen bands, newest first, from the (band, customer) index; two bands are
    read one by one and merged (an IN over the index's first column would be sorted whole)."""
    streams = [_newest(Score.objects.filter(band=band), before, limit) for band in RISK_BANDS[value]]
    return list(heapq.merge(*streams, reverse=True))[:limit]


def segment_candidates(value: str, before: int | None, limit: int) -> list[int]:
    """The cards of an RFM segment, newest first, from the (segment, customer) index."""
    return _newest(Score.objects.filter(segment=value), before, limit)


def by_segment(customers, value: str):
    return customers.filter(score__segment=value)


def by_value(customers, value: str):
    high, medium = value_bands()
    if value == "none":
        return customers.filter(Q(score__isnull=True) | Q(score__expected_value__isnull=True))
    ranges = {
        "high": Q(score__expected_value__gte=high),
        "medium": Q(score__expected_value__gte=medium, score__expected_value__lt=high),
        "low": Q(score__expected_value__lt=medium),
    }
    return customers.filter(ranges[value])


def register() -> None:
    from customers import extra_filters

    extra_filters.register(
        "risk", field=risk_field, apply=by_risk, permission=PERMISSION, order=10, candidates=risk_candidates
    )
    extra_filters.register(
        "rfm", field=segment_field, apply=by_segment, permission=PERMISSION, order=20, candidates=segment_candidates
    )
    extra_filters.register("value", field=value_field, apply=by_value, permission=PERMISSION, order=30)
