"""Which customers a figure is about: the population filters (tag, city, source, import batch,
segment, owner) as conditions on cards and on their closures.

A churn rate divides closures of some cards by the cards themselves, so a filter that narrows one
side must narrow the other the same way (issue 17: "performed by" narrowed only the numerator).
These filters describe the *card* (its current values), so each one is one condition that applies
to the customers table (``card_q``) and, through ``customer__``, to the closure table
(``closure_q``). Filters that describe a closure (action, reason, category, performed by, tenure
at closing) are not population filters (analytics/churn.py hides the rate with them).

A page works out its population once (``Population``, kept by the filter set): the cards' ids and
"customer since", and their closures; analytics/held.py counts a card-filtered page from them.
"""

from collections import Counter
from datetime import date

from django.db import connections
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from closures.models import Closure
from crm.arrays import literal
from customers.models import Customer
from customers.owner_counts import Days, owned_cards

# The cached lists live with the cards (customers.places); re-exported for analytics' filters.
from customers.places import known_sources, matching_cities

__all__ = ["CARD_ONLY", "PARAMS", "Population", "card_q", "closure_q", "known_sources"]

# Card attributes, in the order the filter form shows them, and the viewer's data scope (crm/scopes.py:
# the owners whose cards they see; not a form field, set by the filter set from its user).
PARAMS = ("segment", "owner", "tag", "city", "source", "batch", "scope")
# ... of which a closure keeps no copy of its own (it copies the segment and owner at closing; the
# scope is about the card's owner now).
CARD_ONLY = ("tag", "city", "source", "batch", "scope")


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
    if data.get("scope") is not None:
        found["owner_id__in"] = list(data["scope"])
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


class Population:
    """The cards some population filters select, worked out once per page.

    ``closures`` is a condition on closures: on PostgreSQL the ids of the population's closures,
    read once (a semi-join from the filtered cards through the closures' customer index: a tag's
    26,000 cards have about 6,500 closures at a million cards), selected by ``id = ANY(array)``
    through the primary key, instead of each of a page's dozen queries joining the closure table
    to the cards, their tags and their cities again; elsewhere (SQLite, small data) the join.
    The population's cards are counted by "customer since" once (from the cards' ids read, or for
    some owners customers/owner_counts.py), for the churn rate's denominators and the cohort sizes.

    When the card filters are only the viewer's data scope and the owner (every page of a scoped
    reader), the population is "the cards of these owners" (``owners``), and neither side reads the
    cards: the closures are selected by their own ``card_owner`` (the card's owner now, kept by
    closures/writes.follow_owners) and the owner tallies, and the cards are counted by "customer
    since" per owner, cached (customers/owner_counts.py). A team's half of a million cards would
    otherwise be read id by id, and their closures selected by a quarter of a million ids.
    """

    def __init__(self, data: dict, *, using: str = "default"):
        self.using = using
        self.cards = card_q(data, using=using)
        self.data = data
        self.owners = _owners_only(data)
        self._closures = self._counts = self._rows = None

    def _cards(self) -> list[tuple[int, date]]:
        """(id, customer since) of every card of the population, read once."""
        if self._rows is None:
            cards = Customer.objects.using(self.using).order_by()
            if self.cards is not None:
                cards = cards.filter(self.cards)
            self._rows = list(cards.values_list("pk", "customer_since"))
        return self._rows

    def of_cards(self) -> Q | None:
        """The population's closures as "closed card is one of these", for one read of them."""
        if self.cards is None:
            return None
        if self.owners is not None:
            return Q(card_owner_id__in=self.owners)
        if connections[self.using].vendor != "postgresql":
            return closure_q(self.data, using=self.using)
        # Through the closures' customer index, card by card: PostgreSQL would rather hash the
        # whole closure table against a subquery of a few thousand cards.
        cards = literal(sorted(pk for pk, _since in self._cards()))
        return Q(RawSQL('"closures_closure"."customer_id" = ANY(%s::bigint[])', (cards,), output_field=BooleanField()))

    @property
    def closures(self) -> Q | None:
        """The population's closures as one condition for the many queries of a list or a figure."""
        if self.cards is None:
            return None
        if self._closures is None:
            if self.owners is not None or connections[self.using].vendor != "postgresql":
                self._closures = self.of_cards()
            else:
                closures = Closure.objects.using(self.using).filter(self.of_cards()).order_by()
                ids = literal(sorted(closures.values_list("pk", flat=True)))  # in index order: fewer pages read
                self._closures = Q(
                    RawSQL('"closures_closure"."id" = ANY(%s::bigint[])', (ids,), output_field=BooleanField())
                )
        return self._closures

    def _since(self):
        """The population's cards by "customer since" (customers/owner_counts.py), counted once."""
        if self._counts is None:
            if self.owners is not None:
                self._counts = owned_cards(self.owners, using=self.using)
            else:
                self._counts = Days.of(Counter(since for _pk, since in self._cards()).items())
        return self._counts

    def customers_before(self, day: date) -> int:
        """Cards of the population that were customers before ``day``."""
        return self._since().before(day)

    def since_by_month(self) -> dict[int, int]:
        """Cards of the population by the month of their "customer since" (``year * 12 + month - 1``)."""
        return self._since().by_month() if self.owners is not None else self._since().months


def _owners_only(data: dict) -> tuple[int, ...] | None:
    """The owners the card filters come down to when they are only the data scope and the owner
    (None when another card filter is set, or none is)."""
    if not data or set(data) - {"scope", "owner"}:
        return None
    owners = set(data["scope"]) if data.get("scope") is not None else None
    if data.get("owner"):
        chosen = {data["owner"].pk}
        owners = chosen if owners is None else owners & chosen
    return tuple(sorted(owners))
