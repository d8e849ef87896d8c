"""Which customers a figure is about: the population filters (tag, city, source, import batch,
segment, owner) as conditions on cards and on their closures.

A churn rate divides closures of some cards by the cards themselves, so a filter that narrows one
side must narrow the other the same way (issue 17: "performed by" narrowed only the numerator).
These filters describe the *card* (its current values), so each one is one condition that applies
to the customers table (``card_q``) and, through ``customer__``, to the closure table
(``closure_q``). Filters that describe a closure (action, reason, category, performed by, tenure
at closing) are not population filters; ``CLOSURE_ONLY`` names them for the figures that must
leave them out or say so.
"""

from django.db import connections
from django.db.models import Q
from django.db.models.expressions import RawSQL

# The cached lists live with the cards (customers.places); re-exported for analytics' filters.
from closures.models import Closure
from customers.models import Customer
from customers.places import known_cities, known_sources, matching_cities  # noqa: F401

# Card attributes, in the order the filter form shows them.
PARAMS = ("segment", "owner", "tag", "city", "source", "batch")
# ... of which a closure keeps no copy of its own (it copies the segment and owner at closing).
CARD_ONLY = ("tag", "city", "source", "batch")
# Filters that describe the closure, not the card: a population cannot be narrowed by them.
CLOSURE_ONLY = ("action", "category", "reason", "by", "tenure")


def _conditions(data: dict, using: str) -> dict:
    found = {}
    if data.get("segment"):
        found["segment"] = data["segment"]
    if data.get("owner"):
        found["owner"] = data["owner"]
    if data.get("tag"):
        found["tags"] = data["tag"]
    if data.get("source"):
        found["source"] = data["source"]
    if data.get("batch"):
        found["import_batch"] = data["batch"]
    if data.get("city"):
        found["city__in"] = matching_cities(data["city"], using=using)
    return found


def card_q(data: dict, *, using: str = "default") -> Q | None:
    """The population filters in ``data`` (a filter form's cleaned data) as a condition on
    customers, or None when none is set."""
    found = _conditions(data, using)
    return Q(**found) if found else None


def closure_q(data: dict, *, using: str = "default") -> Q | None:
    """The same population as a condition on closures (through the closed card)."""
    found = _conditions(data, using)
    return Q(**{f"customer__{name}": value for name, value in found.items()}) if found else None


def closures_of(data: dict, *, using: str = "default") -> Q | None:
    """The closures of the cards ``data`` selects, as one condition on closures (None for every card).

    On PostgreSQL the ids of those closures are read once (a semi-join from the filtered cards
    through the closures' customer index: a tag's 26,000 cards have about 6,500 closures at a
    million cards) and every figure then selects ``id IN (unnest(array))``, instead of each of a
    page's dozen queries joining the closure table to the cards, their tags and their cities
    again. Elsewhere (SQLite, small data) the join itself.
    """
    cards = card_q(data, using=using)
    if cards is None:
        return None
    if connections[using].vendor != "postgresql":
        return closure_q(data, using=using)
    chosen = Customer.objects.using(using).filter(cards).values("pk")
    ids = list(Closure.objects.using(using).filter(customer__in=chosen).values_list("pk", flat=True))
    return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", (ids,)))


def is_filtered(data: dict) -> bool:
    return any(data.get(name) not in (None, "") for name in PARAMS)
