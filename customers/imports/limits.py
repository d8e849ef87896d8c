"""What an import file may be and hold, the error a whole file gets, and the cell kinds the readers return.

Every cap is a setting (crm/settings.py, from the environment; README lists them) read when a
file is read, so a test or an operator can change it:

- IMPORT_MAX_BYTES (20 MB): the upload; IMPORT_MAX_ROWS (200,000): the customers in one file.
- IMPORT_MAX_COLUMNS (100): the header row may use columns A to CV. A valid header names at most
  the 19 columns and the 7 an export adds; 100 leaves room for blank columns between them, and
  keeps every row the reader builds at most that long (a cell at column ZZZ once made every row
  18,278 cells long).
- IMPORT_MAX_SHARED_STRINGS (2,000,000) and IMPORT_MAX_SHARED_STRING_BYTES (64 MB): the
  workbook's shared strings table. The benchmark's 100,000 customers, saved by LibreOffice as
  Excel would, need 424,000 strings and 6.7 MB of text; the same at the 200,000-row cap
  831,000 strings and 13.4 MB, 2.4 and 4.8 times inside the caps (a file with every one of
  nine text columns distinct on every row would need 1.8 million). Reading 2,000,000 strings
  takes about 2.5 s of CPU here and at most 72 MB: the most a file can make the reader do
  before it is refused.
"""

from django.conf import settings
from django.utils.translation import gettext as _

# An XLSX column reference has at most three letters: XFD is Excel's last column, ZZZ the largest
# any reader accepts.
LAST_COLUMN = 18_278


def max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024)


def max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", 200_000)


def max_uncompressed_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_UNCOMPRESSED_BYTES", 25 * max_bytes())


def max_columns() -> int:
    return min(getattr(settings, "IMPORT_MAX_COLUMNS", 100), LAST_COLUMN)


def max_shared_strings() -> int:
    return getattr(settings, "IMPORT_MAX_SHARED_STRINGS", 2_000_000)


def max_shared_string_bytes() -> int:
    # The offsets of the compact store are 32-bit (customers/imports/xlsx_strings.py).
    return min(getattr(settings, "IMPORT_MAX_SHARED_STRING_BYTES", 64 * 1024 * 1024), 2**32 - 1)


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


def too_large_message() -> str:
    return _("The file is larger than %(limit)s; split it into smaller files.") % {"limit": megabytes(max_bytes())}


def blank(value) -> bool:
    """An empty cell, or one holding only spaces (the same test as the import's for blank rows)."""
    return value is None or (isinstance(value, str) and not value.strip())


def column_letters(index: int) -> str:
    """1 -> A, 27 -> AA, 18278 -> ZZZ (any width: a CSV line has no last column)."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def header_width(values: list) -> int:
    """The position of the header's last non-blank cell (1-based); too wide a header is refused."""
    width = 0
    for position, value in enumerate(values, 1):
        if not blank(value):
            width = position
    check_width(width, values[width - 1] if width else "")
    return width


def check_width(width: int, header) -> None:
    if width > max_columns():
        raise ImportFileError(
            _(
                "The header row has “%(header)s” in column %(column)s, but only the first %(max)d columns "
                "(A to %(last)s) are read. Move the columns you need to the left, delete the others and retry."
            )
            % {
                "header": str(header).strip()[:40],
                "column": column_letters(width),
                "max": max_columns(),
                "last": column_letters(max_columns()),
            }
        )
