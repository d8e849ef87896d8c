"""What the scoring settings page shows (insights.views.scoring_settings, Admins): every figure the
scores are made of, as the settings leave them, each with a sentence of meaning and the setting
that changes it; and the last runs with the models they fitted. Read-only: the figures are
deployment settings (README), so a change is reviewed and deployed like any other."""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.formatting import money

from . import actions, risk, search_filters
from .models import ScoringRun

RUNS_SHOWN = 10

# The fitted models' parameters (ScoringRun.model), in the order the page shows them.
MODEL_PARAMETERS = (("bgnbd", ("r", "alpha", "a", "b")), ("spend", ("p", "q", "v")))


def _meanings() -> dict[str, str]:
    return {
        "r": _(
            "Shape of how often customers buy: with alpha, the spread of purchase rates across "
            "customers (the average customer buys r ÷ alpha times a week)."
        ),
        "alpha": _("Scale of how often customers buy (in weeks): the larger, the rarer the purchases."),
        "a": _("With b, how likely a customer is to stop buying after a purchase: on average a ÷ (a + b) of the time."),
        "b": _("With a, the spread of that chance across customers: the larger, the less customers stop."),
        "p": _("Shape of one customer's spend from purchase to purchase: the larger, the steadier each spends."),
        "q": _("Shape of the average spend across customers: with v, how much customers differ in what they spend."),
        "v": _("Scale of the average spend across customers: the average spend per purchase day is p × v ÷ (q − 1)."),
    }


def weights() -> list[dict]:
    """Each signal's weight as set (settings or defaults), and as the last full run learnt it."""
    current = risk.weights()
    total = sum(current.values())
    last = ScoringRun.objects.filter(kind=ScoringRun.Kind.FULL).exclude(finished_at=None).first()
    learnt = (last.model or {}).get("weights") or {} if last else {}
    return [
        {
            "code": code,
            "weight": f"{weight:g}",
            "default": f"{risk.WEIGHTS[code]:g}",
            "learnt": f"{learnt[code]:.2f}" if code in learnt else "—",
            "share": round(100 * weight / total),
            "meaning": risk.MEANINGS[code],
        }
        for code, weight in current.items()
    ]


def bands() -> list[dict]:
    found = risk.bands()
    meanings = {
        "high": _("From this risk up the card is at high risk: its warning counts as high."),
        "medium": _("From this risk up the card is warned and listed in Customers at risk."),
        "low": _("Below the medium band: nothing in the history points to leaving."),
    }
    return [{"key": key, "label": label, "lowest": lowest, "meaning": meanings[key]} for lowest, key, label in found]


def constants() -> list[dict]:
    return [
        {
            "name": "PERIOD_DAYS",
            "value": risk.PERIOD_DAYS,
            "meaning": _(
                "Days in a period: purchases, spending and interactions in the last period are compared "
                "with the period before."
            ),
        },
        {
            "name": "OVERDUE_FROM",
            "value": risk.OVERDUE_FROM,
            "meaning": _("A customer is overdue from this many times their usual interval between purchases."),
        },
        {
            "name": "OVERDUE_FULL",
            "value": risk.OVERDUE_FULL,
            "meaning": _("At this many times the usual interval the overdue signal is at full strength."),
        },
        {
            "name": "FIRST_REPEAT_DAYS",
            "value": risk.FIRST_REPEAT_DAYS,
            "meaning": _("The usual interval assumed for a customer who has bought on one day only."),
        },
        {
            "name": "TOP_REASONS",
            "value": risk.TOP_REASONS,
            "meaning": _("How many reasons a warning keeps and shows, strongest first."),
        },
        {
            "name": "RETENTION_WINDOW_DAYS",
            "value": actions.window_days(),
            "meaning": _(
                "Days after a retention action in which a purchase counts as retained; "
                "without a purchase or a closure by then, the outcome is no purchase in time."
            ),
        },
    ]


def value_bands() -> list[dict]:
    high, medium = search_filters.value_bands()
    return [
        {
            "label": label,
            "meaning": meaning,
        }
        for label, meaning in (
            (
                _("High value"),
                _("Expected to spend %(amount)s or more in the next 12 months.") % {"amount": money(high)},
            ),
            (
                _("Medium value"),
                _("Expected to spend from %(low)s up to %(high)s.") % {"low": money(medium), "high": money(high)},
            ),
            (_("Low value"), _("Expected to spend less than %(amount)s.") % {"amount": money(medium)}),
            (_("No expected value"), _("Not scored yet, no purchase yet, or too few repeat buyers to fit the model.")),
        )
    ]


def runs() -> list[dict]:
    shown = []
    for run in ScoringRun.objects.all()[:RUNS_SHOWN]:
        model = run.model or {}
        parameters = {}
        for part, names in MODEL_PARAMETERS:
            fitted = model.get(part) or {}
            for name in names:
                parameters[name] = fitted.get(name)
        shown.append({"run": run, "parameters": parameters})
    return shown


def context() -> dict:
    return {
        "weights": weights(),
        "bands": bands(),
        "constants": constants(),
        "value_bands": value_bands(),
        "runs": runs(),
        "parameter_names": [name for _part, names in MODEL_PARAMETERS for name in names],
        "parameter_meanings": _meanings(),
    }
