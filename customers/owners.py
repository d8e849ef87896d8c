"""A card changing hands: the notice its writers give to what keeps a copy of a card's owner.

Data scopes (crm/scopes.py) select a card's closures by the owner the card has *now*, which each
closure keeps as ``card_owner`` so a scoped dashboard never reads the cards (analytics/population.py).
The card gate and the import's bulk write call ``changed`` with ``{card id: (old owner id, new
owner id)}`` in their transaction; closures/writes.py listens (``on_change``, as customers/since.py does for
"customer since": this floor imports nothing above it). Only active cards change hands (the gate),
so only reverted closures ever move: a closure in force keeps the owner it was made with.
service/tally.py listens too: its owner summary moves the card's tickets to the new owner.
"""

from collections.abc import Callable

Moves = dict[int, tuple[int | None, int | None]]  # {card id: (old owner id, new owner id)}
_listeners: list[Callable[[Moves], None]] = []


def on_change(listener: Callable[[Moves], None]) -> None:
    """Call ``listener({card id: (old owner, new owner)})`` whenever the gate or an import changes
    cards' owners (ids or None)."""
    if listener not in _listeners:
        _listeners.append(listener)


def changed(moves: Moves) -> None:
    moves = {card: (old, new) for card, (old, new) in moves.items() if old != new}
    for listener in _listeners if moves else ():
        listener(dict(moves))
