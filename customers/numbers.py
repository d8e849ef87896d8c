"""Customer numbers: one canonical form, whichever path a number comes in by.

A customer number is the card's identity outside the product (on paper forms, in other systems,
in import files), and people type it in any case: "c000123", " C000123 ". Every path that reads a
number (the card form, import, search, the closure forms, the API) passes it through
:func:`normalise_customer_no`, so the stored form is always the canonical one and ``C000123`` and
``c000123`` can never become two cards. The database backs this up with a unique index on
``UPPER(customer_no)`` (customers/migrations).
"""

import unicodedata


def normalise_customer_no(text) -> str:
    """The canonical form of a customer number: NFKC (full-width Ｃ０００１ → C0001), trimmed, upper case."""
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", str(text)).strip().upper()
