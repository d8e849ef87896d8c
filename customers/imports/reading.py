"""Reading an uploaded .xlsx or .csv file as rows of cell values, safely.

- The size is checked before anything is read (settings.IMPORT_MAX_BYTES).
- CSV must decode as UTF-8 (with or without a BOM) or, failing that, GB18030 (what Excel
  saves on Chinese Windows; a superset of GBK), and hold no NUL byte; anything else gets
  "The file is not UTF-8 or GB18030 text...".
- An .xlsx must start with the zip signature; its central directory must promise a bounded
  total size and compression ratio before anything is decompressed (zip bombs). openpyxl
  reads the package (content types, workbook, shared strings, styles, so date cells and
  the 1904 calendar are understood) and any error it raises becomes a plain message.
- The sheet's rows are parsed with expat directly (:class:`_SheetParser`): openpyxl's
  read-only iteration took 31 s for 100,000 rows x 19 columns here, this about a third.
- Formulas are never evaluated (nothing here could): a formula cell is returned as a
  ``Formula`` (its text) so the import can refuse it with a message asking for values.
  Reading with ``data_only=True`` would instead take the result Excel cached, silently.
"""

import csv
import io
import logging
import zipfile
from collections.abc import Iterator
from pathlib import PurePath
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601

from crm.spreadsheets import FORMULA_PREFIXES

logger = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv")
XLSX_SIGNATURE = b"PK\x03\x04"
# Zip-bomb limits, checked in the central directory before anything is decompressed. A real
# workbook's sheet XML compresses about 10 to 30 times.
MAX_ZIP_MEMBERS = 1000
MAX_ZIP_RATIO = 100
ZIP_RATIO_MIN_SIZE = 1024 * 1024


def max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024)


def max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", 200_000)


def max_uncompressed_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_UNCOMPRESSED_BYTES", 25 * max_bytes())


def megabytes(size: int) -> str:
    """20971520 -> "20 MB" (and small limits in KB)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{max(size // 1024, 1)} KB"


class ImportFileError(Exception):
    """The file as a whole cannot be imported; ``messages`` say why, in words a user can act on."""

    def __init__(self, *messages: str):
        super().__init__(" ".join(messages))
        self.messages = list(messages)


class Formula(str):
    """A cell that holds a formula (the text is the formula, starting with =)."""


class CellError(str):
    """A cell that holds an Excel error such as #N/A or #VALUE!."""


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


def too_large_message() -> str:
    return _("The file is larger than %(limit)s; split it into smaller files.") % {"limit": megabytes(max_bytes())}


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
    return _xlsx_rows(fileobj) if fmt == "xlsx" else _csv_rows(fileobj)


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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for record in reader:
            yield line, [_unguard(value) for value in record]
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


def _not_a_workbook() -> ImportFileError:
    return ImportFileError(
        _(
            "The file is not an Excel workbook (.xlsx) even though its name ends in .xlsx; "
            "open it in Excel and save it as .xlsx."
        )
    )


def _check_zip(fileobj) -> None:
    """Refuse anything that is not a zip, and zip bombs, from the central directory alone."""
    fileobj.seek(0)
    if fileobj.read(4) != XLSX_SIGNATURE:
        raise _not_a_workbook()
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _not_a_workbook() from None
    too_big = ImportFileError(
        _("The workbook expands to far more data than its size suggests (a “zip bomb”), so it was not opened.")
    )
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > max_uncompressed_bytes():
        raise too_big
    for member in members:
        if member.file_size > ZIP_RATIO_MIN_SIZE and member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1):
            raise too_big
    fileobj.seek(0)


def _open_workbook(fileobj):
    """openpyxl reads the package (no sheet data yet); returns (reader, path of the sheet to import)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(fileobj, read_only=True, data_only=False, keep_links=False)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    sheets = [
        (sheet.name, rel.target)
        for sheet, rel in reader.parser.find_sheets()
        if "worksheet" in (rel.Type or "") and rel.target in reader.valid_files
    ]
    if not sheets:
        raise ImportFileError(_("The workbook has no worksheet."))
    preferred = {"customers", "客户"}
    path = next((target for name, target in sheets if name.strip().casefold() in preferred), sheets[0][1])
    return reader, path


def _xlsx_rows(fileobj) -> Iterator[tuple[int, list]]:
    _check_zip(fileobj)
    try:
        reader, path = _open_workbook(fileobj)
    except ImportFileError:
        raise
    except Exception:  # openpyxl raises many kinds (KeyError, ValueError, XML errors) for broken files
        logger.info("unreadable .xlsx upload", exc_info=True)
        raise _not_a_workbook() from None
    try:
        with reader.archive.open(path) as source:
            yield from _SheetParser(reader.shared_strings, reader.wb).rows(source)
    except ImportFileError:
        raise
    except Exception:
        logger.info("unreadable .xlsx sheet", exc_info=True)
        raise ImportFileError(
            _("The workbook's sheet could not be read; open it in Excel, save it again as .xlsx and retry.")
        ) from None
    finally:
        reader.archive.close()


class _SheetParser:
    """Rows of one worksheet's XML as (row number, values), with expat (about 3 times openpyxl's speed).

    Values: str, int, float, bool, datetime for cells styled as dates, ``Formula`` for a cell
    with a formula, ``CellError`` for #N/A and friends, None for an empty cell. The handlers
    are closures over plain local variables because they run a few million times per file.
    """

    def __init__(self, shared_strings, workbook):
        self.shared = shared_strings
        self.date_styles = {str(i) for i in getattr(workbook, "_date_formats", set())}
        self.epoch = workbook.epoch
        self.columns: dict[str, int] = {}

    def column(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        index = self.columns.get(letters)
        if index is None:
            index = self.columns[letters] = column_index_from_string(letters)
        return index

    def value(self, kind, style, text: str):
        if kind == "s":
            return self.shared[int(text)] if text else None
        if kind == "inlineStr" or kind == "str":
            return text
        if not text:
            return None
        if kind == "b":
            return text == "1"
        if kind == "e":
            return CellError(text)
        if kind == "d":
            return from_ISO8601(text)
        number = int(text) if text.lstrip("-").isdigit() else float(text)
        if style is not None and style in self.date_styles:
            try:
                return from_excel(number, self.epoch)
            except (OverflowError, ValueError):
                return CellError("#VALUE!")
        return number

    def rows(self, source) -> Iterator[tuple[int, list]]:
        done: list[tuple[int, list]] = []
        text: list[str] = []
        formula: list[str] = []
        row_number = 0
        cells: list[tuple[int, object]] = []
        col = 0
        ref = kind = style = None
        grab = None
        phonetic = 0
        has_formula = False
        prefix = None
        column, value, shared = self.column, self.value, self.shared

        def start(name, attrs):
            nonlocal ref, kind, style, grab, phonetic, has_formula, row_number, cells, col, prefix
            if prefix is None:  # the root element tells whether names carry a prefix ("x:c")
                prefix = name[: name.index(":") + 1] if ":" in name else ""
            if prefix:
                if not name.startswith(prefix):
                    return
                name = name[len(prefix) :]
            if name == "c":
                ref = kind = style = None
                for i in range(0, len(attrs), 2):
                    key = attrs[i]
                    if key == "r":
                        ref = attrs[i + 1]
                    elif key == "t":
                        kind = attrs[i + 1]
                    elif key == "s":
                        style = attrs[i + 1]
                text.clear()
                has_formula = False
            elif name == "v" or name == "t":
                if not phonetic:
                    grab = text
            elif name == "row":
                number = None
                for i in range(0, len(attrs), 2):
                    if attrs[i] == "r":
                        number = int(attrs[i + 1])
                row_number = number if number else row_number + 1
                cells = []
                col = 0
            elif name == "f":
                has_formula = True
                formula.clear()
                grab = formula
            elif name == "rPh":
                phonetic += 1

        def end(name):
            nonlocal grab, phonetic, col
            if prefix:
                if not name.startswith(prefix):
                    return
                name = name[len(prefix) :]
            if name == "c":
                col = column(ref) if ref else col + 1
                if has_formula:
                    cells.append((col, Formula("=" + "".join(formula))))
                elif kind == "s":
                    cells.append((col, shared[int("".join(text))] if text else None))
                else:
                    cells.append((col, value(kind, style, "".join(text))))
            elif name == "v" or name == "t" or name == "f":
                grab = None
            elif name == "row":
                values: list = [None] * (max(c for c, _v in cells) if cells else 0)
                for position, cell_value in cells:
                    values[position - 1] = cell_value
                done.append((row_number, values))
            elif name == "rPh":
                phonetic -= 1

        def characters(data):
            if grab is not None:
                grab.append(data)

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.ordered_attributes = True
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        while True:
            chunk = source.read(1 << 16)
            parser.Parse(chunk, not chunk)
            if done:
                yield from done
                done.clear()
            if not chunk:
                return
