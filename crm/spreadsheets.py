"""Writing spreadsheet cells safely (shared by every export).

Text that starts with =, +, -, @, a tab or a carriage return would be read by Excel or
LibreOffice as a formula (spreadsheet formula injection); such text is prefixed with an
apostrophe in CSV and written as an inline string cell in .xlsx (crm.xlsx).
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: str) -> bool:
    return bool(value) and value.startswith(FORMULA_PREFIXES)


def csv_cell(value) -> str:
    """A CSV-safe text for one cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if looks_like_formula(text) else text


def xlsx_value(value):
    """A value for an .xlsx cell: aware datetimes as naive local time, decimals as floats.

    crm.xlsx writes every text as an inline string, so formula-like text stays text.
    """
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    return value


PROGRESS_EVERY = 1000


def counting(rows: Iterable[list], progress: Callable | None, total: int | None) -> Iterator[list]:
    """Yield the rows, reporting ``progress(done, total)`` every PROGRESS_EVERY rows and at the end."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total)
    if progress:
        progress(done, total)


def write_csv(out, header: list, rows: Iterable[list], *, progress: Callable | None = None, total=None) -> int:
    """Stream ``rows`` as CSV into the binary file ``out``: UTF-8 with a byte-order mark, so Excel
    shows Chinese correctly, every cell made safe by csv_cell. Returns the number of rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    count = 0
    for row in counting(rows, progress, total):
        writer.writerow([csv_cell(value) for value in row])
        count += 1
    text.flush()
    text.detach()
    return count
