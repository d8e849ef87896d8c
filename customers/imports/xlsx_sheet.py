"""The rows of the workbook's customer sheet, parsed with expat: the header first, then only as wide as it.

- The sheet's XML is parsed with expat directly (:class:`SheetParser`): openpyxl's read-only
  iteration took 31 s for 100,000 rows x 19 columns here, this about a third. Measured again
  (CPU time, whole read) on the benchmark's file, 100,000 customers x 14 columns in inline
  strings: 3.8 s before the changes of issue 16 and 3.75 s after, with no growth in memory
  either way (200,000 rows: 7.9 s and 7.4 s). The same file saved by LibreOffice, with shared
  strings as Excel writes them: 21 to 24 s and 72 MB more before, most of it openpyxl loading
  the strings, 6.3 s and 8 MB more after (200,000 rows: 44 s and 141 MB, 11.6 s and 16 MB).
- The header is the first row with a non-blank cell. Until the import has it, a cell's shared
  string is looked up only for the rows up to the header; rows read further with the same
  block of XML keep their strings' indices until the import asks for them. So a header
  without a required column is reported having read only the strings it holds.
- Cells are kept sparsely, by column, and a row is built only as wide as the header (its last
  non-blank cell, at most IMPORT_MAX_COLUMNS): a cell further right is dropped as it is parsed.
  A 109 KB file with one cell at column ZZZ per row took 64 s when every row was expanded to
  18,278 cells (the test's 6,000 such rows: a preview of 26 s before, 0.25 s after).
- Formulas are never evaluated (nothing here could): a formula cell is returned as a
  ``Formula`` (its text) so the import can refuse it with a message asking for values.
  Reading with ``data_only=True`` would instead take the result Excel cached, silently.
"""

import logging
from collections.abc import Iterator

from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601

from .limits import CellError, Formula, ImportFileError, blank, check_width
from .xlsx_package import expat_parser, not_a_workbook, open_package, sheet_unreadable
from .xlsx_strings import SharedStrings

logger = logging.getLogger(__name__)
CHUNK = 1 << 16


def xlsx_rows(fileobj) -> Iterator[tuple[int, list]]:
    """Every row of the workbook's customer sheet as (row number, values); see the module docstring."""
    package = open_package(fileobj)
    try:
        strings = SharedStrings(package.archive, package.shared_strings_path)
    except Exception:
        package.archive.close()
        logger.info("unreadable shared strings", exc_info=True)
        raise not_a_workbook() from None
    try:
        with package.archive.open(package.sheet_path) as source:
            yield from SheetParser(strings, package.date_styles, package.epoch).rows(source)
    except ImportFileError:
        raise
    except Exception:
        logger.info("unreadable .xlsx sheet", exc_info=True)
        raise sheet_unreadable() from None
    finally:
        strings.close()
        package.archive.close()


class _Later(int):
    """A shared string's index, looked up when the import asks for the row that holds it."""


class SheetParser:
    """Rows of one worksheet's XML as (row number, values), with expat (about 3 times openpyxl's speed).

    Values: str, int, float, bool, datetime for cells styled as dates, ``Formula`` for a cell
    with a formula, ``CellError`` for #N/A and friends, None for an empty cell. Rows before the
    header are blank and come as []; the header and every later row as a list as long as the
    header ([] when a row has nothing within it). The handlers are closures over plain local
    variables because they run a few million times per file.
    """

    def __init__(self, shared_strings, date_styles: set[str], epoch):
        self.shared = shared_strings
        self.date_styles = date_styles
        self.epoch = epoch
        self.columns: dict[str, int] = {}

    def column(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        index = self.columns.get(letters)
        if index is None:
            index = self.columns[letters] = column_index_from_string(letters)
        return index

    def value(self, kind, style, text: str):
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

    def header(self, cells: dict[int, object]) -> list | None:
        """The row's values if it is the header (its first non-blank row), else None; sets the width."""
        values = {col: self.shared[v] if type(v) is _Later else v for col, v in cells.items()}
        filled = [col for col, v in values.items() if not blank(v)]
        if not filled:
            return None
        width = max(filled)
        check_width(width, values[width])
        row: list = [None] * width
        for col, v in values.items():
            if col <= width:
                row[col - 1] = v
        return row

    def rows(self, source) -> Iterator[tuple[int, list]]:
        done: list[tuple[int, list, bool]] = []  # (row number, values, holds _Later indices)
        text: list[str] = []
        formula: list[str] = []
        row_number = 0
        cells: dict[int, object] = {}
        col = width = 0  # width: the header's, once it has been read
        live = False  # the header has been handed out: shared strings are looked up as cells end
        ref = kind = style = None
        grab = None
        phonetic = 0
        has_formula = False
        prefix = None
        column, value, shared, header = self.column, self.value, self.shared, self.header

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
                cells = {}
                col = 0
            elif name == "f":
                has_formula = True
                formula.clear()
                grab = formula
            elif name == "rPh":
                phonetic += 1

        def end(name):
            nonlocal grab, phonetic, col, width
            if prefix:
                if not name.startswith(prefix):
                    return
                name = name[len(prefix) :]
            if name == "c":
                col = column(ref) if ref else col + 1
                if width and col > width:
                    return
                if has_formula:
                    cells[col] = Formula("=" + "".join(formula))
                elif kind == "s":
                    if not text:
                        cells[col] = None
                    elif live:
                        cells[col] = shared[int("".join(text))]
                    else:
                        cells[col] = _Later("".join(text))
                else:
                    cells[col] = value(kind, style, "".join(text))
            elif name == "v" or name == "t" or name == "f":
                grab = None
            elif name == "row":
                if not width:
                    values = header(cells)
                    if values is None:
                        done.append((row_number, [], False))
                        return
                    width = len(values)
                    done.append((row_number, values, False))
                elif cells:
                    values = [None] * width
                    for position, cell_value in cells.items():
                        values[position - 1] = cell_value
                    done.append((row_number, values, not live))
                else:
                    done.append((row_number, [], False))
            elif name == "rPh":
                phonetic -= 1

        def characters(data):
            if grab is not None:
                grab.append(data)

        parser = expat_parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        while True:
            chunk = source.read(CHUNK)
            parser.Parse(chunk, not chunk)
            for number, values, later in done:
                if later:
                    values = [shared[v] if type(v) is _Later else v for v in values]
                yield number, values
                live = live or bool(width)
            done.clear()
            if not chunk:
                return
