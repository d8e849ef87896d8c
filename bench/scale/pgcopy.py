"""Rows into PostgreSQL with COPY: the text format's escaping, timestamps and amounts (seed_scale)."""

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings


class Copier:
    """COPY rows of a model into its table; unknown columns (added later) get their defaults."""

    def __init__(self, cursor, *, model, freeze: bool = True):
        self.cursor = cursor
        self.table = model._meta.db_table
        self.columns = []
        self.defaults = {}
        for field in model._meta.concrete_fields:
            if field.primary_key and not field.column:
                continue
            self.columns.append(field.column)
            self.defaults[field.column] = default_text(field)
        self.sql = (
            f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN WITH (FREEZE {'true' if freeze else 'false'})"
        )
        self.rows = 0

    def line(self, row: dict) -> str:
        defaults = self.defaults
        return "\t".join(row[c] if c in row else defaults[c] for c in self.columns)

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        with self.cursor.copy(self.sql) as copy:
            copy.write("\n".join(lines) + "\n")
        self.rows += len(lines)


def default_text(field) -> str:
    """COPY text for a field left at its default (for columns this loader does not know)."""
    value = field.get_default()
    if value is None:
        return r"\N" if field.null else ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return esc(json.dumps(value, ensure_ascii=False))
    return esc(str(value))


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def esc(text: str) -> str:
    return text.translate(_ESCAPES)


def local_day(seconds: int) -> str:
    """The local date (settings.TIME_ZONE) of a Unix time, as COPY text: a card's customer since."""
    return datetime.fromtimestamp(seconds, ZoneInfo(settings.TIME_ZONE)).date().isoformat()


def ts(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(seconds))


def money(amount: float) -> str:
    return f"{amount:.2f}"
