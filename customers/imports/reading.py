"""Reading an uploaded .xlsx or .csv file as rows of cell values, safely.

- The size is checked before anything is read (settings.IMPORT_MAX_BYTES); every other cap is
  in limits.py, each with why it is where it is.
- CSV must decode as UTF-8 (with or without a BOM) or, failing that, GB18030 (what Excel
  saves on Chinese Windows; a superset of GBK), and hold no NUL byte; anything else gets
  "The file is not UTF-8 or GB18030 text...".
- An .xlsx is checked part by part before anything parses it (zip bombs, DOCTYPEs and entity
  declarations, oversized parts: xlsx_package.py), its shared strings are read as far as the
  cells ask (xlsx_strings.py) and its sheet is parsed with expat (xlsx_sheet.py).
- In both formats the header is the first non-blank row; it may reach IMPORT_MAX_COLUMNS at
  most, and every later row is cut to the header's width, so a cell far to the right costs
  nothing.
"""

import csv
import io
from collections.abc import Iterator
from pathlib import PurePath

from django.utils.translation import gettext as _

from crm.spreadsheets import FORMULA_PREFIXES

from .limits import (
    CellError,
    Formula,
    ImportFileError,
    blank,
    header_width,
    max_bytes,
    max_rows,
    megabytes,
    too_large_message,
)
from .xlsx_package import XLSX_SIGNATURE
from .xlsx_sheet import xlsx_rows

__all__ = [
    "FORMATS",
    "CellError",
    "Formula",
    "ImportFileError",
    "check_size",
    "file_format",
    "max_bytes",
    "max_rows",
    "megabytes",
    "read_rows",
    "too_large_message",
]

FORMATS = ("xlsx", "csv")


def file_format(file_name: str) -> str:
    suffix = PurePath(file_name or "").suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        if suffix in ("xls", "xlsb", "xlsm", "ods", "numbers"):
            raise ImportFileError(
                _("Files of type .%(suffix)s cannot be imported; save it as .xlsx (Excel workbook) or .csv.")
                % {"suffix": suffix}
            )
        raise ImportFileError(_("Upload an .xlsx or .csv file."))
    return suffix


def _size_of(fileobj) -> int | None:
    size = getattr(fileobj, "size", None)
    if size is None:
        try:
            position = fileobj.tell()
            fileobj.seek(0, io.SEEK_END)
            size = fileobj.tell()
            fileobj.seek(position)
        except (AttributeError, OSError):
            return None
    return size


def check_size(fileobj) -> None:
    size = _size_of(fileobj)
    if size is not None and size > max_bytes():
        raise ImportFileError(too_large_message())
    if size == 0:
        raise ImportFileError(_("The file is empty."))


def read_rows(fileobj, file_name: str) -> Iterator[tuple[int, list]]:
    """Every row of the file as (line number, cell values); the first non-empty row is the header."""
    fmt = file_format(file_name)
    check_size(fileobj)
    fileobj.seek(0)
    return xlsx_rows(fileobj) if fmt == "xlsx" else _csv_rows(fileobj)


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            text = None
    if text is None or "\x00" in text:
        raise ImportFileError(
            _(
                "The file is not UTF-8 or GB18030 text, so it cannot be read as CSV. In Excel choose "
                "Save As › “CSV UTF-8 (Comma delimited)”, or upload the .xlsx workbook instead."
            )
        )
    return text


def _csv_rows(fileobj) -> Iterator[tuple[int, list]]:
    data = fileobj.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise ImportFileError(too_large_message())
    if data.startswith(XLSX_SIGNATURE):
        raise ImportFileError(_("This file is an Excel workbook, not CSV; give it the .xlsx extension."))
    text = _decode(data)
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count) if any(d in first_line for d in ",;\t") else ","
    return _csv_records(text, delimiter)


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list]]:
    """Blank lines before the header as [], then the header and every line cut to the header's width."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    width = 0
    try:
        for record in reader:
            if not width:
                if all(blank(value) for value in record):
                    record = []
                else:
                    width = header_width(record)
            yield line, [_unguard(value) for value in record[:width]]
            line = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError(
            _("Line %(line)d cannot be read as CSV (%(error)s).") % {"line": line, "error": error}
        ) from None


def _unguard(value: str) -> str:
    """Undo the apostrophe our exports put before formula-like text ("'=1+2" -> "=1+2")."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value
