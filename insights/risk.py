"""The risk score: 0–100 from signals read off the customer's own history, each with its reason in
words, so a warning says *why* ("no purchase for 94 days; this customer usually buys every 21").

Each signal has a strength from 0 (nothing wrong) to 1 (as bad as it gets) and a weight; the
score is the weighted mean of the strengths, times 100. The reasons kept on the score are the
signals with a strength, strongest contribution first (at most ``TOP_REASONS``).

    overdue        time since the last purchase against the customer's usual interval: nothing
                   up to ``OVERDUE_FROM`` times the interval, full strength at ``OVERDUE_FULL`` times
                   (customers with a single purchase day: against the usual interval of all the
                   customers who bought again, or ``FIRST_REPEAT_DAYS`` before a run has one)
    fewer          fewer purchases in the last ``PERIOD_DAYS`` than in the period before, in full only
                   with enough purchases to compare: the drop times n / (n + ``EVIDENCE_PURCHASES``)
                   for n purchases in the period before (one purchase missing proves little)
    spending       less spent in the last period than in the one before (weighed the same way)
    quieter        fewer interactions (calls, visits, messages) in the last period than before
    service        an open ticket (half strength) or one that missed its SLA (full strength)
    fading         the BG/NBD model's probability of no purchase in the next ``PERIOD_DAYS``: it reads
                   the same history in the light of all customers'; unlike 1 − P(alive), which the
                   model puts at 0 for everyone who bought only once, it knows that one-time buyers
                   seldom come back
    value          how little the customer spends against the others: the RFM value quintile, the
                   fifth who spend least in full (they leave most often)

The weights and the bands are the defaults below; a deployment may change them in Django settings
(``INSIGHTS_RISK_WEIGHTS = {"overdue": 4.0}``: the codes it names, the others keep their default;
``INSIGHTS_RISK_BANDS = {"high": 70, "medium": 40}``: the lowest risk of each band). They are read
through :func:`weights` and :func:`bands` (the scoring run reads the weights once per run), checked
when read, and shown with their meaning to Admins on the scoring settings page (insights/settings_page.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

PERIOD_DAYS = 90
OVERDUE_FROM = 1.5
OVERDUE_FULL = 4.0
FIRST_REPEAT_DAYS = 120
EVIDENCE_PURCHASES = 3
TOP_REASONS = 3
# Risk bands, by the lowest risk of each: what the badge, the list's filter and the dashboards say.
# The defaults: bands() gives them as the settings leave them.
# A weighted mean over seven signals: a customer long overdue whose purchases fell scores about 55.
BANDS = (
    (50, "high", gettext_lazy("High risk")),
    (25, "medium", gettext_lazy("Medium risk")),
    (0, "low", gettext_lazy("Low risk")),
)
WEIGHTS = {
    "overdue": 3.0,
    "fewer": 1.5,
    "spending": 1.0,
    "quieter": 0.5,
    "service": 1.0,
    "fading": 2.0,
    "value": 1.0,
}
MEANINGS = {
    "overdue": gettext_lazy("Time since the last purchase against the customer's usual interval between purchases."),
    "fewer": gettext_lazy("Fewer purchases in the last 90 days than in the 90 days before."),
    "spending": gettext_lazy("Less spent in the last 90 days than in the 90 days before."),
    "quieter": gettext_lazy("Fewer interactions in the last 90 days than in the 90 days before."),
    "service": gettext_lazy("An open ticket, or one that missed its service-level target."),
    "fading": gettext_lazy("The purchase model's probability of no purchase in the next 90 days."),
    "value": gettext_lazy("How little the customer spends against the others: the fifth who spend least in full."),
}


def overridden() -> bool:
    """Whether the settings set weights (then the scoring runs learn none: insights/learning.py)."""
    return bool(getattr(settings, "INSIGHTS_RISK_WEIGHTS", None))


def weights() -> dict[str, float]:
    """Each signal's weight: the defaults (WEIGHTS), as INSIGHTS_RISK_WEIGHTS changes them."""
    given = getattr(settings, "INSIGHTS_RISK_WEIGHTS", None) or {}
    unknown = set(given) - set(WEIGHTS)
    if unknown:
        raise ImproperlyConfigured(f"INSIGHTS_RISK_WEIGHTS: unknown signals {sorted(unknown)}; known: {list(WEIGHTS)}")
    merged = {code: float(given.get(code, default)) for code, default in WEIGHTS.items()}
    if min(merged.values()) < 0 or sum(merged.values()) <= 0:
        raise ImproperlyConfigured("INSIGHTS_RISK_WEIGHTS: weights are zero or more, and not all zero.")
    return merged


def bands() -> tuple:
    """(lowest risk, key, label) of each band, highest first: BANDS, as INSIGHTS_RISK_BANDS changes them."""
    given = getattr(settings, "INSIGHTS_RISK_BANDS", None) or {}
    if not given:
        return BANDS
    unknown = set(given) - {"high", "medium"}
    high, medium = int(given.get("high", BANDS[0][0])), int(given.get("medium", BANDS[1][0]))
    if unknown or not 0 < medium < high <= 100:
        raise ImproperlyConfigured(
            'INSIGHTS_RISK_BANDS: {"high": H, "medium": M} with 0 < M < H <= 100 (the lowest risk of each band).'
        )
    return ((high, *BANDS[0][1:]), (medium, *BANDS[1][1:]), BANDS[2])


@dataclass(frozen=True)
class History:
    """What the signals read of one customer (insights/scoring.py fills it from the database)."""

    recency_days: int | None  # None: never bought
    typical_interval: float | None  # None: fewer than two purchase days
    recent_purchases: int = 0
    earlier_purchases: int = 0
    recent_amount: float = 0.0
    earlier_amount: float = 0.0
    recent_interactions: int = 0
    earlier_interactions: int = 0
    open_tickets: int = 0
    breached_tickets: int = 0
    probability_alive: float | None = None
    probability_quiet: float | None = None  # P(no purchase in the next PERIOD_DAYS), from the purchase model
    first_repeat_days: float | None = None  # the usual interval of all repeat buyers (a run's, for one-time buyers)
    typical_quiet: float | None = None  # the buyers' median probability_quiet (a run's): fading reads beyond it
    value_quintile: int = 0  # the RFM value quintile, 1 (spends least) to 5; 0 without a purchase


def _evidence(earlier: int) -> float:
    """How much a drop from ``earlier`` purchases proves, 0 to 1."""
    return earlier / (earlier + EVIDENCE_PURCHASES)


def _drop(recent: float, earlier: float) -> float:
    return max(0.0, (earlier - recent) / earlier) if earlier > 0 else 0.0


def signals(h: History) -> list[tuple[str, float, dict]]:
    """(code, strength, details) of every signal with a strength."""
    found = []
    if h.recency_days is not None:
        usual = h.typical_interval or h.first_repeat_days or FIRST_REPEAT_DAYS
        ratio = h.recency_days / max(usual, 1.0)
        strength = min(1.0, max(0.0, (ratio - OVERDUE_FROM) / (OVERDUE_FULL - OVERDUE_FROM)))
        details = {"days": h.recency_days, "usual": round(h.typical_interval) if h.typical_interval else None}
        found.append(("overdue", strength, details))
    found.append(
        (
            "fewer",
            _drop(h.recent_purchases, h.earlier_purchases) * _evidence(h.earlier_purchases),
            {"recent": h.recent_purchases, "before": h.earlier_purchases},
        )
    )
    found.append(
        (
            "spending",
            _drop(h.recent_amount, h.earlier_amount) * _evidence(h.earlier_purchases),
            {"recent": round(h.recent_amount, 2), "before": round(h.earlier_amount, 2)},
        )
    )
    found.append(
        (
            "quieter",
            _drop(h.recent_interactions, h.earlier_interactions),
            {"recent": h.recent_interactions, "before": h.earlier_interactions},
        )
    )
    service = 1.0 if h.breached_tickets else 0.5 if h.open_tickets else 0.0
    found.append(("service", service, {"open": h.open_tickets, "breached": h.breached_tickets}))
    if h.probability_quiet is not None:
        typical = min(h.typical_quiet or 0.0, 0.99)
        strength = max(0.0, (h.probability_quiet - typical) / (1.0 - typical))
        found.append(("fading", strength, {"quiet": round(h.probability_quiet, 3)}))
    if h.value_quintile:
        found.append(("value", (5 - h.value_quintile) / 4, {"quintile": h.value_quintile}))
    return [(code, strength, details) for code, strength, details in found if strength > 0]


def score(h: History, weighted: dict[str, float] | None = None) -> tuple[int, list[dict]]:
    """The risk 0–100 and its reasons, strongest contribution first (``weighted``: weights(), read once by a run)."""
    weighted = weighted or weights()
    found = signals(h)
    risk = round(100 * sum(weighted[code] * strength for code, strength, _d in found) / sum(weighted.values()))
    ranked = sorted((s for s in found if weighted[s[0]] > 0), key=lambda s: -weighted[s[0]] * s[1])[:TOP_REASONS]
    return risk, [{"code": code, "strength": round(strength, 3), **details} for code, strength, details in ranked]


def lowest(key: str) -> int:
    """The lowest risk of the band ``key`` ("high", "medium", "low")."""
    return next(low for low, k, _label in bands() if k == key)


def band(level: int) -> dict:
    """The band of a risk 0–100: {"key": "high", "label": "High risk"}."""
    for lowest, key, label in bands():
        if level >= lowest:
            return {"key": key, "label": label}
    return {"key": "low", "label": BANDS[-1][2]}


def describe(reason: dict) -> str:
    """A stored reason in words, in the reader's language."""
    code = reason.get("code")
    if code == "overdue":
        if reason.get("usual"):
            return _("No purchase for %(days)d days; this customer usually buys every %(usual)d.") % reason
        return (
            ngettext(
                "No purchase for %(days)d day since the first one.",
                "No purchase for %(days)d days since the first one.",
                reason["days"],
            )
            % reason
        )
    if code == "fewer":
        return (
            ngettext(
                "%(recent)d purchase in the last 90 days, %(before)d in the 90 days before.",
                "%(recent)d purchases in the last 90 days, %(before)d in the 90 days before.",
                reason["recent"],
            )
            % reason
        )
    if code == "spending":
        return _("Spent %(recent).2f in the last 90 days, %(before).2f in the 90 days before.") % reason
    if code == "quieter":
        return (
            ngettext(
                "%(recent)d interaction in the last 90 days, %(before)d in the 90 days before.",
                "%(recent)d interactions in the last 90 days, %(before)d in the 90 days before.",
                reason["recent"],
            )
            % reason
        )
    if code == "service":
        if reason.get("breached"):
            return (
                ngettext(
                    "%(breached)d open ticket missed its service-level target.",
                    "%(breached)d open tickets missed their service-level target.",
                    reason["breached"],
                )
                % reason
            )
        return ngettext("%(open)d open ticket.", "%(open)d open tickets.", reason["open"]) % reason
    if code == "fading" and "quiet" in reason:
        return _("The purchase model gives a %(percent)d%% chance of no purchase in the next 90 days.") % {
            "percent": round(100 * reason["quiet"])
        }
    if code == "fading":  # as the runs before the model's quiet chance wrote it
        return _("The purchase model gives a %(percent)d%% chance that this customer still buys.") % {
            "percent": round(100 * reason["alive"])
        }
    if code == "value":
        return _("Spends less than most customers: value quintile %(quintile)d of 5.") % reason
    return str(code)
