"""Historical closure files for the import's tests: CSV and .xlsx built from rows, and a checker."""

import csv
import io

from openpyxl import Workbook

from closures.imports import import_history
from customers.imports import read_rows

HEADER = ["customer_no", "action", "reason", "closed_at", "notes", "performed_by"]


def csv_bytes(*rows, header=HEADER) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def xlsx_bytes(*rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(user, data: bytes, name: str = "history.csv", *, commit: bool = False):
    """The import of ``data`` as the file ``name``: the preview, or with ``commit`` the import itself."""
    return import_history(lambda: read_rows(io.BytesIO(data), name), name, user=user, commit=commit)


def problems(report) -> list[tuple[int, str, str]]:
    return [(p.line, p.column, p.message) for p in report.problems]
