"""Customer numbers: one canonical form, one rule and one generator, whichever path a number comes by.

A customer number is the card's identity outside the product (on paper forms, in other systems,
in import files), and people type it in any case: "c000123", " C000123 ", "Ｃ０００１２３". Every path
that reads a number (the card form, import, search, the closure forms, the API) passes it through
:func:`normalise_customer_no`, and every path that stores one through :func:`clean_customer_no`, so
the stored form is always the canonical one and ``C000123`` and ``c000123`` can never become two
cards. The database backs this up with a unique index on ``UPPER(customer_no)``
(customers/migrations/0010).

New numbers come from :func:`next_customer_no`: "C" and six digits (C000124), more digits after
C999999. On PostgreSQL they are drawn from a sequence, so any number of cards created at the same
moment get different numbers without retrying; when the number drawn is already taken by an
imported card (C000500), the sequence jumps past the highest number of that shape in use. SQLite,
which serialises writers, takes the number after the highest of that shape.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

MAX_LENGTH = 32
PATTERN = re.compile(r"[A-Z0-9][A-Z0-9._/\-]*")
SEQUENCE = "customers_customer_no_seq"


def normalise_customer_no(text) -> str:
    """The canonical form of a customer number: NFKC (full-width Ｃ０００１ → C0001), trimmed, upper case."""
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", str(text)).strip().upper()


def clean_customer_no(text) -> str:
    """The canonical number, or ValidationError saying what is wrong with it ("" stays "")."""
    number = normalise_customer_no(text)
    if not number:
        return ""
    if len(number) > MAX_LENGTH:
        raise ValidationError(
            _("A customer number has at most %(max)d characters; this one has %(length)d.")
            % {"max": MAX_LENGTH, "length": len(number)},
            code="customer_no_length",
        )
    if not PATTERN.fullmatch(number):
        raise ValidationError(
            _(
                "A customer number may contain only letters, digits, dots, dashes, slashes and underscores, "
                "and starts with a letter or a digit."
            ),
            code="customer_no_characters",
        )
    return number


def format_number(value: int) -> str:
    return f"C{value:06d}"


def next_customer_no() -> str:
    """A free generated number (see the module docstring); never one an imported card already has."""
    from .models import Customer

    taken = Customer.objects.filter
    if connection.vendor != "postgresql":
        return format_number(highest_generated() + 1)
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT nextval(%s)", [SEQUENCE])
            candidate = format_number(cursor.fetchone()[0])
            if not taken(customer_no=candidate).exists():
                return candidate
            # Imported cards hold numbers of the generated shape: jump past the highest one in use
            # (one indexed query) instead of trying them one by one.
            cursor.execute(
                "SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM " + SEQUENCE + ")))",
                [SEQUENCE, highest_generated()],
            )


def highest_generated() -> int:
    """The highest number of the generated shape in use (0 when none), through the customer_no index."""
    from .models import Customer

    highest = 0
    for width in range(6, 10):
        found = (
            Customer.objects.filter(
                customer_no__gte="C" + "0" * width,
                customer_no__lte="C" + "9" * width,
                customer_no__regex=rf"^C[0-9]{{{width}}}$",
            )
            .order_by("-customer_no")
            .values_list("customer_no", flat=True)
            .first()
        )
        if found:
            highest = int(found[1:])
    return highest
