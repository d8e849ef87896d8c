"""The cities and sources cards have, as short cached lists: a city searched by part of its name, a
source chosen from the ones in use.

A city stored as "测试城市 Testville" must be found by "Testville" and by "测试", yet a substring
condition on the city column (``LIKE '%x%'``) reads every card. The distinct cities are few (hundreds
at most, against a million cards), so they are read once (a distinct scan of the city index), kept in
the cache for a few minutes, matched in Python, and the filter becomes an indexed ``city IN (...)``.
The search page (customers.filters) and the dashboards' population filters (analytics.population)
use the same lists. Once a change commits, a city or source the card gate wrote is added to the
cached lists (:func:`note`: a card created in a new city is found at once, without another distinct
scan for every card saved) and an import forgets them (:func:`forget`: one scan after a whole file).
A value no card has any more may stay listed until the lists expire; it matches nothing.
"""

from django.core.cache import cache
from django.db import transaction

from .models import Customer

CACHE_SECONDS = 600


def _key(kind: str, using: str) -> str:
    return f"customers.{kind}:{using}"


def _distinct(column: str, using: str) -> list[str]:
    key = _key(column, using)
    values = cache.get(key)
    if values is None:
        found = Customer.objects.using(using).order_by().values_list(column, flat=True).distinct()
        values = sorted(value for value in found if value)
        cache.set(key, values, CACHE_SECONDS)
    return values


def known_cities(*, using: str = "default") -> list[str]:
    """Every distinct city on a card, sorted, cached for a few minutes."""
    return _distinct("city", using)


def matching_cities(text: str, *, using: str = "default") -> list[str]:
    """The cities containing ``text`` (case-insensitive, any part: "测试城市 Testville" is found by
    "Testville" and by "测试"), so the filter is an indexed ``city IN (...)`` rather than a scan."""
    needle = " ".join(text.split()).casefold()
    return [city for city in known_cities(using=using) if needle in city.casefold()]


def known_sources(*, using: str = "default") -> list[str]:
    """Every distinct source on a card ("旧系统 Legacy CRM", "门店 Store"...), sorted, cached."""
    return _distinct("source", using)


def note(*, city: str = "", source: str = "", using: str = "default") -> None:
    """Add a card's new city and source to the cached lists once the current transaction commits."""
    values = {"city": city, "source": source}

    def add() -> None:
        for kind, value in values.items():
            listed = cache.get(_key(kind, using)) if value else None
            if listed is not None and value not in listed:
                cache.set(_key(kind, using), sorted([*listed, value]), CACHE_SECONDS)

    if city or source:
        transaction.on_commit(add, using=using)


def forget(*, using: str = "default") -> None:
    """Drop the cached lists once the current transaction commits (a card's city or source changed)."""
    transaction.on_commit(lambda: cache.delete_many([_key("city", using), _key("source", using)]), using=using)
