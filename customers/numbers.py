"""Customer numbers: one canonical form, one rule and one generator, whichever path a number comes by.

A customer number is the card's identity outside the product (on paper forms, in other systems,
in import files), and people type it in any case: "c000123", " C000123 ", "Ｃ０００１２３". Every path
that reads a number (the card form, import, search, the closure forms, the API) passes it through
:func:`normalise_customer_no`, and every path that stores one through :func:`clean_customer_no`, so
the stored form is always the canonical one and ``C000123`` and ``c000123`` can never become two
cards. The database backs this up with a unique index on ``UPPER(customer_no)``
(customers/migrations/0010).

New numbers come from :func:`next_customer_no` (one, the card form) and :func:`next_customer_nos`
(many, an import's rows without a number): the prefix ``CUSTOMER_NO_PREFIX`` (default "C") and
``CUSTOMER_NO_DIGITS`` digits (default 6: C000124), more digits after C999999. On PostgreSQL
they are drawn from a sequence, so any number of cards created at the same moment (two imports
running at once included) get different numbers without retrying; when the number drawn is already taken by an
imported card (C000500), the sequence jumps past the highest number of that shape in use. SQLite,
which serialises writers, takes the number after the highest of that shape.
"""

import re
import unicodedata
from collections.abc import Collection

from django.conf import settings
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


def prefix() -> str:
    return settings.CUSTOMER_NO_PREFIX


def format_number(value: int) -> str:
    return f"{prefix()}{value:0{settings.CUSTOMER_NO_DIGITS}d}"


def next_customer_no() -> str:
    """A free generated number (see the module docstring); never one an imported card already has."""
    return next_customer_nos(1)[0]


def next_customer_nos(count: int, *, reserved: Collection[str] = ()) -> list[str]:
    """``count`` free generated numbers, in order, none of them in use nor in ``reserved``.

    ``reserved`` holds numbers that are not cards yet but will be: an import's own numbers, which
    its rows without one must not be given. On PostgreSQL the candidates are drawn from the
    sequence in one statement (nextval is outside any transaction: two imports running at once
    never draw the same one) and checked against the cards in one query; a taken one is skipped
    and the sequence jumps past the highest number of the generated shape in use, so the next
    draw does not walk through imported numbers one by one. SQLite, which serialises writers,
    counts on from the highest in use.
    """
    from .models import Customer

    numbers: list[str] = []
    skip = set(reserved)
    postgres = connection.vendor == "postgresql"
    next_value = None if postgres else highest_generated() + 1
    while len(numbers) < count:
        wanted = count - len(numbers)
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [SEQUENCE, wanted])
                candidates = [format_number(value) for (value,) in cursor.fetchall()]
        else:
            candidates = [format_number(value) for value in range(next_value, next_value + wanted)]
            next_value += wanted
        taken = set(Customer.objects.filter(customer_no__in=candidates).values_list("customer_no", flat=True))
        free = [number for number in candidates if number not in taken and number not in skip]
        numbers += free
        if taken and postgres:
            # Imported cards hold numbers of the generated shape: jump past the highest one in use
            # (one indexed query) instead of trying them one by one.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM " + SEQUENCE + ")))",
                    [SEQUENCE, highest_generated()],
                )
        elif taken:
            next_value = max(next_value, highest_generated() + 1)
    return numbers


def highest_generated() -> int:
    """The highest number of the generated shape in use (0 when none), through the customer_no index."""
    from .models import Customer

    start = prefix()
    pattern = re.escape(start)
    highest = 0
    for width in range(settings.CUSTOMER_NO_DIGITS, settings.CUSTOMER_NO_DIGITS + 4):
        found = (
            Customer.objects.filter(
                customer_no__gte=start + "0" * width,
                customer_no__lte=start + "9" * width,
                customer_no__regex=rf"^{pattern}[0-9]{{{width}}}$",
            )
            .order_by("-customer_no")
            .values_list("customer_no", flat=True)
            .first()
        )
        if found:
            highest = int(found[len(start) :])
    return highest
