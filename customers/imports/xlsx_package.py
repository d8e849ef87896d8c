"""Opening an .xlsx package safely: the zip, every XML part's prolog, then openpyxl for the small parts.

Checked before any XML parser sees a byte of the file:

- the zip's central directory: at most MAX_ZIP_MEMBERS parts, a bounded total size and
  compression ratio (zip bombs). Python's zipfile never returns more than a member's declared
  size, so these numbers hold;
- every part's prolog (what comes before its first element, read from at most PROLOG_WINDOW
  bytes, in UTF-8, UTF-16 with or without a byte-order mark, or any ASCII-compatible encoding):
  a DOCTYPE, and with it any entity declaration, is refused. A sheet holding a chain of 100,000
  nested entities made expat (2.5.0 here, CVE-2024-8176) overflow its stack and kill the worker
  with SIGSEGV. Excel never writes a DOCTYPE. Two more lines of defence stay behind this check:
  the expat parsers made by :func:`expat_parser` refuse a DOCTYPE themselves, and openpyxl uses
  defusedxml (installed for it; it refuses entity declarations) for the parts it parses;
- the parts openpyxl parses whole into a tree (content types, relationships, the workbook,
  styles) may be at most MAX_PACKAGE_PART_BYTES each: a 17 MB styles part took openpyxl 16 s
  and 237 MB. Excel's own limit of 64,000 cell formats fits in about that much.

openpyxl then reads the content types, the workbook (its sheets and 1904 calendar) and the
styles (which number formats are dates). These use its internals (``ExcelReader``,
``apply_stylesheet``...), so its version is pinned (pyproject.toml) and
tests/customers/test_import_reading_limits.py checks the pin and the names used here.
"""

import codecs
import logging
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

from django.utils.translation import gettext as _

from .limits import ImportFileError, max_uncompressed_bytes, megabytes

logger = logging.getLogger(__name__)

XLSX_SIGNATURE = b"PK\x03\x04"
# Zip-bomb limits, checked in the central directory before anything is decompressed. A real
# workbook's sheet XML compresses about 10 to 30 times.
MAX_ZIP_MEMBERS = 1000
MAX_ZIP_RATIO = 100
ZIP_RATIO_MIN_SIZE = 1024 * 1024
MAX_PACKAGE_PART_BYTES = 4 * 1024 * 1024
PROLOG_WINDOW = 16 * 1024
# The range of openpyxl versions whose internals this module was written against (see the test).
OPENPYXL_SUPPORTED = ((3, 1, 5), (3, 2))


def not_a_workbook() -> ImportFileError:
    return ImportFileError(
        _(
            "The file is not an Excel workbook (.xlsx) even though its name ends in .xlsx; "
            "open it in Excel and save it as .xlsx."
        )
    )


def sheet_unreadable() -> ImportFileError:
    return ImportFileError(
        _("The workbook's sheet could not be read; open it in Excel, save it again as .xlsx and retry.")
    )


def entities_refused() -> ImportFileError:
    return ImportFileError(
        _("The workbook contains XML entity declarations, which are not allowed; save it again from Excel.")
    )


def _refuse_doctype(*_args):
    raise entities_refused()


def expat_parser():
    """An expat parser for a part of the workbook: text buffered, attributes as a list, no DOCTYPE."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.ordered_attributes = True
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    return parser


def check_zip(fileobj) -> None:
    """Refuse anything that is not a zip, and zip bombs, from the central directory alone."""
    fileobj.seek(0)
    if fileobj.read(4) != XLSX_SIGNATURE:
        raise not_a_workbook()
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise not_a_workbook() from None
    too_big = ImportFileError(
        _("The workbook expands to far more data than its size suggests (a “zip bomb”), so it was not opened.")
    )
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > max_uncompressed_bytes():
        raise too_big
    for member in members:
        if member.file_size > ZIP_RATIO_MIN_SIZE and member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1):
            raise too_big
    fileobj.seek(0)


def check_prologs(archive: zipfile.ZipFile) -> None:
    """Refuse a DOCTYPE (so any entity declaration) in any part, before a parser reads the part."""
    for member in archive.infolist():
        with archive.open(member) as part:
            head = part.read(PROLOG_WINDOW)
        after = after_prolog(_as_text(head))
        if after is None and len(head) == PROLOG_WINDOW:
            raise not_a_workbook()  # no real part has 16 KB of comments before its first element
        if after is not None and after.startswith("<!"):
            raise entities_refused()


def _as_text(head: bytes) -> str:
    """The start of a part as text, enough to find its markup: UTF-16 by its BOM or its first "<"."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head[: len(head) // 2 * 2].decode("utf-16", "replace")
    if head.startswith(b"<\x00"):
        return head[: len(head) // 2 * 2].decode("utf-16-le", "replace")
    if head.startswith(b"\x00<"):
        return head[: len(head) // 2 * 2].decode("utf-16-be", "replace")
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    return head.decode("latin-1")  # every byte maps; the markup characters are ASCII


def after_prolog(text: str) -> str | None:
    """The text after the XML declaration, comments, processing instructions and spaces; None if it ends first."""
    i, end = 0, len(text)
    while True:
        while i < end and text[i] in " \t\r\n":
            i += 1
        if text.startswith("<?", i):
            close = text.find("?>", i + 2)
        elif text.startswith("<!--", i):
            close = text.find("-->", i + 4)
        else:
            return text[i:] if i < end else None
        if close < 0:
            return None
        i = close + (2 if text[close] == "?" else 3)


def _check_part_size(archive: zipfile.ZipFile, name: str) -> None:
    try:
        size = archive.getinfo(name).file_size
    except KeyError:
        return
    if size > MAX_PACKAGE_PART_BYTES:
        raise ImportFileError(
            _(
                "The workbook's part %(part)s is %(size)s, more than an import reads (%(limit)s); copy the "
                "customer columns into a new workbook, save it and import that."
            )
            % {"part": name, "size": megabytes(size), "limit": megabytes(MAX_PACKAGE_PART_BYTES)}
        )


@dataclass
class Package:
    """What the sheet reader needs from the package: the open zip and the workbook's settings."""

    archive: zipfile.ZipFile
    sheet_path: str
    shared_strings_path: str | None
    date_styles: set[str]
    epoch: object


def open_package(fileobj) -> Package:
    """Check the file (above) and read the package; any failure is a plain ImportFileError."""
    from openpyxl.reader.excel import ExcelReader

    check_zip(fileobj)
    try:
        reader = ExcelReader(fileobj, read_only=True, data_only=False, keep_links=False)  # opens the zip only
    except Exception:
        logger.info("unreadable .xlsx upload", exc_info=True)
        raise not_a_workbook() from None
    try:
        check_prologs(reader.archive)
        return _read_package(reader)
    except ImportFileError:
        reader.archive.close()
        raise
    except Exception:  # openpyxl and zipfile raise many kinds (KeyError, ValueError, XML errors) for broken files
        reader.archive.close()
        logger.info("unreadable .xlsx upload", exc_info=True)
        raise not_a_workbook() from None


def _read_package(reader) -> Package:
    from openpyxl.packaging.relationship import get_rels_path
    from openpyxl.reader.excel import _find_workbook_part
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_STYLE, SHARED_STRINGS

    archive = reader.archive
    _check_part_size(archive, ARC_CONTENT_TYPES)
    reader.read_manifest()
    workbook_part = _find_workbook_part(reader.package).PartName[1:]
    for name in (workbook_part, get_rels_path(workbook_part), ARC_STYLE):
        _check_part_size(archive, name)
    reader.read_workbook()
    apply_stylesheet(archive, reader.wb)
    sheets = [
        (sheet.name, rel.target)
        for sheet, rel in reader.parser.find_sheets()
        if "worksheet" in (rel.Type or "") and rel.target in reader.valid_files
    ]
    if not sheets:
        raise ImportFileError(_("The workbook has no worksheet."))
    preferred = {"customers", "客户"}
    path = next((target for name, target in sheets if name.strip().casefold() in preferred), sheets[0][1])
    strings = reader.package.find(SHARED_STRINGS)
    return Package(
        archive=archive,
        sheet_path=path,
        shared_strings_path=strings.PartName[1:] if strings is not None else None,
        date_styles={str(i) for i in getattr(reader.wb, "_date_formats", set())},
        epoch=reader.wb.epoch,
    )
