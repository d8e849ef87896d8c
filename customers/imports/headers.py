"""Reading an import file's first row: which column each header means (a name or one of its aliases,
in either language), for the imports of past closures and of tickets, which name their columns
with customers.columns.Column. The customer import's own mapping (cleaning.py) also generates numbers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.utils.translation import gettext as _

from customers.columns import Column, normalise_key

from .cleaning import blank_row
from .reading import ImportFileError


def map_headers(
    headers: list, columns: Sequence[Column], *, check: Callable[[dict], list[str]] | None = None
) -> dict[str, tuple[int, str]]:
    """Column name -> (index in the row, header as written). A missing required column, an unknown one or
    two headers meaning the same column is a file error; ``check`` adds the import's own rules."""
    aliases: dict[str, str] = {}
    for column in columns:
        for name in (column.name, *column.aliases):
            aliases.setdefault(normalise_key(name), column.name)
    found: dict[str, tuple[int, str]] = {}
    unknown, errors = [], []
    for index, raw in enumerate(headers):
        header = "" if raw is None else str(raw).replace("\ufeff", "").strip()
        if not header:
            continue
        name = aliases.get(normalise_key(header))
        if name is None:
            unknown.append(header)
        elif name in found:
            errors.append(
                _("The columns “%(first)s” and “%(second)s” both mean %(name)s; keep only one.")
                % {"first": found[name][1], "second": header, "name": name}
            )
        else:
            found[name] = (index, header)
    missing = [column.name for column in columns if column.required and column.name not in found]
    if missing:
        errors.insert(
            0,
            _("The file has no %(columns)s column. The first row must hold the column names; the template shows them.")
            % {"columns": _(" and ").join(missing)},
        )
    errors += check(found) if check else []
    if unknown:
        errors.append(
            _(
                "These columns are not recognised: %(columns)s. "
                "The accepted columns are %(accepted)s (or their Chinese names)."
            )
            % {
                "columns": ", ".join(f"“{h[:40]}”" for h in unknown[:10]),
                "accepted": ", ".join(c.name for c in columns),
            }
        )
    if errors:
        raise ImportFileError(*errors)
    return found


def data_rows(rows, read_headers: Callable[[list], dict], importer, *, limit: int, too_many: str):
    """The data rows of an import file as (line, {column: cell}), for the imports that read their rows
    themselves (past closures, tickets, purchases): blank rows are skipped; the first other row is the
    header, read by ``read_headers(values)`` ({column: (index, header)}) and kept on ``importer.headers``
    and ``importer.report.columns``; each further row is counted on ``importer.report.rows``. More
    than ``limit`` rows (``too_many``, with %(max)s), an empty file and one without rows below its
    header are file errors."""
    columns = None
    for line, values in rows:
        if blank_row(values):
            continue
        if columns is None:
            columns = read_headers(values)
            importer.headers = {name: header for name, (_index, header) in columns.items()}
            importer.report.columns = list(columns)
            continue
        importer.report.rows += 1
        if importer.report.rows > limit:
            raise ImportFileError(too_many % {"max": f"{limit:,}"})
        yield line, {name: values[index] if index < len(values) else None for name, (index, _h) in columns.items()}
    if columns is None:
        raise ImportFileError(_("The file is empty."))
    if not importer.report.rows:
        raise ImportFileError(_("The file has no rows below its header."))
