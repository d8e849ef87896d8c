"""A card changing hands: the notice its writers give to what keeps a copy of a card's owner.

Data scopes (crm/scopes.py) select a card's closures by the owner the card has *now*, which each
closure keeps as ``card_owner`` so a scoped dashboard never reads the cards (analytics/population.py).
The card gate and the import's bulk write call ``changed`` with ``{card id: new owner id}`` in
their transaction; closures/writes.py listens (``on_change``, as customers/since.py does for
"customer since": this floor imports nothing above it). Only active cards change hands (the gate),
so only reverted closures ever move: a closure in force keeps the owner it was made with.
"""

from collections.abc import Callable

_listeners: list[Callable[[dict[int, int | None]], None]] = []


def on_change(listener: Callable[[dict[int, int | None]], None]) -> None:
    """Call ``listener({card id: owner id or None})`` whenever the gate or an import changes cards' owners."""
    if listener not in _listeners:
        _listeners.append(listener)


def changed(owners: dict[int, int | None]) -> None:
    for listener in _listeners if owners else ():
        listener(dict(owners))
