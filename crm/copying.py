"""Rows into a PostgreSQL table with ``COPY ... FROM STDIN``: how the bulk writers send many rows at once
(the outbox's events, the audit trail's entries, an import's cards, a scoring run's scores).

    copy_rows(cursor, table, columns, rows, json_columns=())   PostgreSQL only
    insert_rows(model, rows, using="default")                  COPY on PostgreSQL, bulk_create elsewhere

COPY sends each row's values as they are; ``bulk_create`` has Django prepare every value of every
field and psycopg quote each column's array element by element, which made it three to seven times
slower for the writers above (each measured where it is called). Row triggers fire for COPY as for
any INSERT.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import JSONField
from django.utils import timezone


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence], json_columns=()) -> int:
    """COPY ``rows`` (values in the order of ``columns``) into ``table`` through a Django ``cursor``.

    The values of ``json_columns`` are sent as JSON (with Django's encoder: dates, decimals, UUIDs),
    Chinese kept as it is. Returns the number of rows sent.
    """
    quote = cursor.db.ops.quote_name
    as_json = [column in json_columns for column in columns]
    sql = f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
    sent = 0
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([_json(value) if encode else value for value, encode in zip(row, as_json, strict=True)])
            sent += 1
    return sent


def _json(value):
    return None if value is None else json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def next_ids(cursor, table: str, count: int) -> list[int]:
    """``count`` primary keys drawn from ``table``'s sequence, for rows about to be COPYed with their
    ids (COPY returns none): the caller knows each new row's key without reading the rows back."""
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
    return [pk for (pk,) in cursor.fetchall()]


def insert_rows(model, rows: list[dict], *, using: str = "default", batch_size: int = 2000) -> int:
    """Insert new rows of ``model`` given as ``{attname: value}`` (``customer_id``, not ``customer``),
    the fields left out taking their defaults (a callable default is called once for the whole call:
    every row gets the same ``created_at``). COPY on PostgreSQL, without building a model instance
    per row; ``bulk_create`` elsewhere. Primary keys are not returned."""
    if not rows:
        return 0
    connection = connections[using]
    if connection.vendor != "postgresql":
        model.objects.using(using).bulk_create([model(**row) for row in rows], batch_size=batch_size)
        return len(rows)
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: _default(field) for field in fields}
    names = [field.attname for field in fields]
    values = ([row.get(name, defaults[name]) for name in names] for row in rows)
    json_columns = [field.column for field in fields if isinstance(field, JSONField)]
    with connection.cursor() as cursor:
        return copy_rows(cursor, model._meta.db_table, [field.column for field in fields], values, json_columns)


def _default(field):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()
