"""Many ids as one PostgreSQL array parameter, for ``column = ANY(array)``.

psycopg's list adapter takes about 20 ms for 26,000 integers, and ``IN (%s, ...)`` sends as many
parameters; an array literal is one short string, and ``= ANY`` reads the column's index once per id::

    rows.filter(InArray(F("closure_id"), Value(literal(ids))))
"""

from django.db.models import BooleanField, Func


def literal(ids) -> str:
    """A PostgreSQL array literal of integers (sort them first: the index is then read in order)."""
    return "{" + ",".join(map(str, ids)) + "}"


class InArray(Func):
    """``column = ANY(array)`` (PostgreSQL), whatever alias the column gets in a subquery."""

    arg_joiner = " = ANY("
    template = "%(expressions)s::bigint[])"
    output_field = BooleanField()
