"""Rows into a PostgreSQL table with ``COPY ... FROM STDIN``: how the bulk writers send many rows at once
(the outbox's events, the audit trail's entries, an import's cards, a scoring run's scores).

    copy_rows(cursor, table, columns, rows, json_columns=())

COPY sends each row's values as they are; ``bulk_create`` has Django prepare every value of every
field and psycopg quote each column's array element by element, which made it three to seven times
slower for the writers above (each measured where it is called). Row triggers fire for COPY as for
any INSERT. PostgreSQL only: the callers keep ``bulk_create`` for the other databases.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.core.serializers.json import DjangoJSONEncoder


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
