"""Adding deltas to summary rows (the closure, service, follow-up and churn tallies).

    add_to(model, key_columns, value_columns, rows, using=...)

``rows`` are ``(key, values)`` pairs: a key tuple in ``key_columns`` order and the numbers to add,
in ``value_columns`` order. Each key's row is created or has the numbers added to what is
committed (``INSERT ... ON CONFLICT (key) DO UPDATE SET c = c + EXCLUDED.c``, PostgreSQL and
SQLite alike), so two transactions adding to the same row never lose an update.

Rows are written in key order, in statements of ``batch`` rows: two transactions adding to the
same rows lock them in the same order and cannot deadlock. Rows whose numbers are all zero are
left out; the key columns must carry a unique constraint (ON CONFLICT names them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections

BATCH = 500  # rows per statement (SQLite's bound parameters) ...
MAX_PARAMETERS = 32_000  # ... and fewer for wide rows: SQLite takes at most 32,766 per statement


def add_to(
    model,
    key_columns: Sequence[str],
    value_columns: Sequence[str],
    rows: Iterable[tuple[tuple, Sequence[int]]],
    *,
    using: str,
    batch: int = BATCH,
) -> None:
    rows = sorted((tuple(key), tuple(values)) for key, values in rows if any(values))
    if not rows:
        return
    table = model._meta.db_table
    keys = ", ".join(key_columns)
    columns = ", ".join((*key_columns, *value_columns))
    added = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in value_columns)
    placeholders = "(" + ", ".join(["%s"] * (len(key_columns) + len(value_columns))) + ")"
    batch = max(1, min(batch, MAX_PARAMETERS // (len(key_columns) + len(value_columns))))
    with connections[using].cursor() as cursor:
        for i in range(0, len(rows), batch):
            part = rows[i : i + batch]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(part))} "
                f"ON CONFLICT ({keys}) DO UPDATE SET {added}",
                [value for key, values in part for value in (*key, *values)],
            )
