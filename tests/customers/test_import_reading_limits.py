"""The import reader cannot be made to cost far more than a file's size, or to crash (issue 16).

The hostile files are the issue's reproductions, built by tests/fixtures/hostile_workbooks.py
(scaled down where the caps are lowered for speed). Those that could take the whole process
down or swell it are read in a child process (tests/fixtures/read_in_child.py), which reports
its messages, the seconds the read took and how much its peak memory grew.
"""

import io
import json
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from customers import imports
from customers.imports import reading
from customers.imports.limits import max_shared_string_bytes, max_shared_strings
from customers.models import Customer
from tests.fixtures.customer_files import HEADER, csv_bytes
from tests.fixtures.hostile_workbooks import (
    MAIN,
    big_strings_sst,
    entity_chain_sheet,
    low_entropy_text,
    numbered_sst,
    package,
    shared_row,
    sheet_xml,
    text_row,
)
from tests.fixtures.read_in_child import ROOT, read_in_child

MISSING_COLUMNS = (
    "The file has no customer_no and name column. The first row must hold the column names; the template shows them."
)
TOO_MANY_STRINGS = (
    "The workbook holds more than {max} different texts, far more than a customer file needs; "
    "copy the customer columns into a new workbook, save it and import that."
)
TOO_MUCH_TEXT = (
    "The workbook's texts add up to more than {limit}, far more than a customer file needs; "
    "copy the customer columns into a new workbook, save it and import that."
)
ENTITIES = "The workbook contains XML entity declarations, which are not allowed; save it again from Excel."
# What reading a hostile file may add to the child's peak memory (Django itself is loaded before).
CEILING_MB = 16


def write(tmp_path: Path, data: bytes, name: str = "hostile.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- Shared strings --------------------------------------------------------------------------------
def test_a_header_without_required_columns_is_reported_without_reading_the_shared_strings(tmp_path):
    """The issue's 10 MB file whose shared strings unpack to 87 MB (578 MB and 45 s), at 32 MB."""
    strings = big_strings_sst(32, 1024 * 1024, first=["phone", "city"])
    sheet = sheet_xml([shared_row(1, [0, 1]), shared_row(2, [2, 3])])
    path = write(tmp_path, package(sheet, shared_strings=strings))
    assert path.stat().st_size < 6 * 1024 * 1024

    report = read_in_child(path)

    assert report["messages"] == [MISSING_COLUMNS]
    assert report["grew_mb"] < CEILING_MB, report
    assert report["seconds"] < 2, report


def test_strings_that_no_cell_uses_are_never_read(tmp_path):
    """The issue's 6 million strings that took 52 s and 1 GB to import one row (here 3 million, no count declared)."""
    strings = numbered_sst(3_000_000, first=["customer_no", "name", "C000001", "王芳"]).replace(
        b' count="3000000" uniqueCount="3000000"', b""
    )
    sheet = sheet_xml([shared_row(1, [0, 1]), shared_row(2, [2, 3])])
    path = write(tmp_path, package(sheet, shared_strings=strings))

    report = read_in_child(path)

    assert report["messages"] is None, report
    assert report["customers"] == 1
    assert report["grew_mb"] < CEILING_MB, report
    assert report["seconds"] < 2, report


def test_a_table_that_declares_more_strings_than_the_cap_is_refused_before_it_is_read(tmp_path):
    """At the real default cap: the declared count is enough to refuse, whatever the row asks for."""
    count = max_shared_strings() + 1
    strings = numbered_sst(count, first=["customer_no", "name"])
    sheet = sheet_xml([shared_row(1, [0, 1]), shared_row(2, [count - 2, count - 1])])
    path = write(tmp_path, package(sheet, shared_strings=strings))

    report = read_in_child(path)

    assert report["messages"] == [TOO_MANY_STRINGS.format(max="2,000,000")]
    assert report["grew_mb"] < CEILING_MB, report
    assert report["seconds"] < 2, report


def test_a_table_that_understates_its_count_is_refused_once_past_the_cap(tmp_path):
    strings = numbered_sst(200_000, declared=10, first=["customer_no", "name"])
    sheet = sheet_xml([shared_row(1, [0, 1]), shared_row(2, [2, 199_999])])
    path = write(tmp_path, package(sheet, shared_strings=strings))

    report = read_in_child(path, env={"IMPORT_MAX_SHARED_STRINGS": "50000"})

    assert report["messages"] == [TOO_MANY_STRINGS.format(max="50,000")]
    assert report["grew_mb"] < CEILING_MB, report
    assert report["seconds"] < 2, report


def test_text_over_the_size_cap_is_refused_before_it_is_all_held(tmp_path):
    """One 48 MB string, the cap at 4 MB: refused having held about 4 MB of it, not 48."""
    strings = big_strings_sst(1, 48 * 1024 * 1024, first=["customer_no", "name", "C000001"])
    sheet = sheet_xml([shared_row(1, [0, 1]), shared_row(2, [2, 3])])
    path = write(tmp_path, package(sheet, shared_strings=strings))

    report = read_in_child(path, env={"IMPORT_MAX_SHARED_STRINGS_MB": "4"})

    assert report["messages"] == [TOO_MUCH_TEXT.format(limit="4 MB")]
    assert report["grew_mb"] < CEILING_MB, report
    assert report["seconds"] < 2, report


def test_a_table_at_its_caps_is_read(settings):
    settings.IMPORT_MAX_SHARED_STRINGS = 1000
    settings.IMPORT_MAX_SHARED_STRING_BYTES = 4000
    strings = ["customer_no", "name", *(f"{n:03d}" for n in range(998))]
    assert len(strings) == max_shared_strings()
    assert sum(len(s.encode()) for s in strings) < max_shared_string_bytes()
    sheet = sheet_xml([shared_row(1, [0, 1]), shared_row(2, [998, 999])])
    data = package(sheet, shared_strings=numbered_sst(1000, first=strings[:2]))

    rows = list(reading.read_rows(io.BytesIO(data), "at-the-cap.xlsx"))

    assert rows == [(1, ["customer_no", "name"]), (2, ["998", "999"])]


def test_only_the_rows_asked_for_are_looked_up_in_the_shared_strings():
    """Row 2 names a string the table does not have: the header still comes first, row 2 then fails."""
    sheet = sheet_xml([shared_row(1, [0, 1]), shared_row(2, [0, 99])])
    rows = reading.read_rows(io.BytesIO(package(sheet, shared_strings=numbered_sst(2))), "broken.xlsx")

    assert next(rows) == (1, ["0", "1"])
    with pytest.raises(reading.ImportFileError) as error:
        next(rows)
    assert error.value.messages == [
        "The workbook's sheet could not be read; open it in Excel, save it again as .xlsx and retry."
    ]


# --- XML entities --------------------------------------------------------------------------------
def test_a_chain_of_nested_entities_is_refused_without_crashing_the_process(tmp_path):
    """The issue's 490 KB workbook: 100,000 nested entities made expat 2.5.0 die with SIGSEGV."""
    path = write(tmp_path, package(entity_chain_sheet(100_000)))
    assert path.stat().st_size < 600 * 1024

    report = read_in_child(path)

    assert report["returncode"] == 0, report
    assert report["messages"] == [ENTITIES]


DOCTYPE = '<!DOCTYPE x [<!ENTITY a "b">]>'
PARTS = ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"]


def with_doctype(xml: bytes, encoding: str = "utf-8", *, bom: bool = False, before: str = "") -> bytes:
    """``xml`` with a DOCTYPE after its declaration (and ``before`` it: comments, spaces...)."""
    declaration, rest = xml.decode().split("?>", 1) if xml.startswith(b"<?xml") else ("", xml.decode())
    text = (declaration + "?>" if declaration else "") + before + DOCTYPE + rest
    data = text.encode(encoding)
    if bom:
        data = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding] + data
    return data


def plain_package_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package(sheet_xml([text_row(1, ["customer_no", "name"])])))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("part", PARTS)
def test_a_doctype_in_any_part_is_refused(part):
    parts = plain_package_parts()
    data = package(parts["xl/worksheets/sheet1.xml"], parts={part: with_doctype(parts[part])})

    with pytest.raises(reading.ImportFileError) as error:
        list(reading.read_rows(io.BytesIO(data), "entities.xlsx"))
    assert error.value.messages == [ENTITIES]


@pytest.mark.parametrize(
    ("encoding", "bom", "before"),
    [
        ("utf-8", True, ""),
        ("utf-8", False, "\n<!-- saved by a tool -->\n<?tool hint?>  "),
        ("utf-16-le", True, ""),
        ("utf-16-be", True, ""),
        ("utf-16-le", False, " "),
        ("utf-16-be", False, "<!-- -->"),
    ],
)
def test_a_doctype_is_found_in_every_encoding_and_behind_comments(encoding, bom, before):
    sheet = sheet_xml([text_row(1, ["customer_no", "name"])])
    if encoding.startswith("utf-16"):
        sheet = sheet.replace(b'encoding="UTF-8"', b'encoding="UTF-16"')
    data = package(sheet, parts={"xl/worksheets/sheet1.xml": with_doctype(sheet, encoding, bom=bom, before=before)})

    with pytest.raises(reading.ImportFileError) as error:
        list(reading.read_rows(io.BytesIO(data), "entities.xlsx"))
    assert error.value.messages == [ENTITIES]


def test_a_utf16_workbook_without_a_doctype_is_read():
    sheet = sheet_xml([text_row(1, ["customer_no", "name"]), text_row(2, ["C1", "王芳"])])
    utf16 = b"\xff\xfe" + sheet.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode().encode("utf-16-le")
    data = package(sheet, parts={"xl/worksheets/sheet1.xml": utf16})

    assert list(reading.read_rows(io.BytesIO(data), "utf16.xlsx")) == [
        (1, ["customer_no", "name"]),
        (2, ["C1", "王芳"]),
    ]


def test_the_readers_own_parsers_refuse_a_doctype_too():
    """The second line of defence, should the prolog check ever miss one."""
    from customers.imports.xlsx_sheet import SheetParser
    from customers.imports.xlsx_strings import SharedStrings

    sheet = with_doctype(sheet_xml([text_row(1, ["a"])]))
    with pytest.raises(reading.ImportFileError) as error:
        list(SheetParser([], set(), None).rows(io.BytesIO(sheet)))
    assert error.value.messages == [ENTITIES]

    archive_bytes = io.BytesIO()
    with zipfile.ZipFile(archive_bytes, "w") as archive:
        archive.writestr("sst.xml", with_doctype(numbered_sst(3)))
    with zipfile.ZipFile(archive_bytes) as archive, pytest.raises(reading.ImportFileError) as error:
        SharedStrings(archive, "sst.xml")[0]
    assert error.value.messages == [ENTITIES]


def test_openpyxl_parses_with_defusedxml_which_refuses_entities():
    import openpyxl.xml
    from defusedxml import EntitiesForbidden
    from openpyxl.xml.functions import fromstring

    assert openpyxl.xml.DEFUSEDXML is True
    with pytest.raises(EntitiesForbidden):
        fromstring(with_doctype(b"<root>&a;</root>"))


def test_a_bloated_part_that_openpyxl_would_parse_whole_is_refused_unparsed():
    """A 17 MB styles part took openpyxl 16 s and 237 MB; the parts it parses whole are capped at 4 MB."""
    styles = f'<styleSheet xmlns="{MAIN}"><!-- '.encode() + low_entropy_text(5 * 1024 * 1024) + b" --></styleSheet>"
    data = package(sheet_xml([text_row(1, ["customer_no", "name"])]), parts={"xl/styles.xml": styles})

    with pytest.raises(reading.ImportFileError) as error:
        list(reading.read_rows(io.BytesIO(data), "styles.xlsx"))
    assert error.value.messages == [
        "The workbook's part xl/styles.xml is 5 MB, more than an import reads (4 MB); copy the customer columns "
        "into a new workbook, save it and import that."
    ]


# --- Columns -------------------------------------------------------------------------------------
def test_a_cell_at_column_zzz_on_every_row_costs_nothing(admin_user):
    """The issue's 109 KB file: one cell at ZZZ per row made every row 18,278 cells long (64 s)."""
    rows = [text_row(n, {1: f"C{n:05d}", 2: f"客户{n}", 18_278: "far"}) for n in range(2, 6002)]
    data = package(sheet_xml([text_row(1, ["customer_no", "name"]), *rows]))
    assert len(data) < 200 * 1024
    upload = imports.save_upload(SimpleUploadedFile("zzz.xlsx", data), admin_user)

    began = time.perf_counter()
    report = imports.preview_upload(upload, user=admin_user)
    seconds = time.perf_counter() - began

    assert (report.ok, report.created, report.ignored_columns) == (True, 6000, [])
    assert seconds < 3
    with default_storage.open(upload.rows_path) as kept:  # what the confirmation will import
        lines = [json.loads(line) for line in kept]
    assert lines[0] == [1, ["customer_no", "name"]]
    assert lines[-1] == [6001, ["C06001", "客户6001"]]
    assert {len(values) for _line, values in lines} == {2}
    assert imports.confirm_upload(upload, user=admin_user).written
    assert Customer.objects.count() == 6000
    assert Customer.objects.get(customer_no="C06001").name == "客户6001"


def test_a_header_past_the_last_column_read_is_refused_naming_the_column():
    sheet = sheet_xml([text_row(1, {1: "customer_no", 2: "name", 18_278: "Notes"})])
    with pytest.raises(reading.ImportFileError) as error:
        list(reading.read_rows(io.BytesIO(package(sheet)), "wide.xlsx"))

    assert error.value.messages == [
        "The header row has “Notes” in column ZZZ, but only the first 100 columns (A to CV) are read. "
        "Move the columns you need to the left, delete the others and retry."
    ]


def test_blank_header_cells_further_right_do_not_widen_it():
    sheet = sheet_xml([text_row(1, {1: "customer_no", 2: "name", 500: "  "}), text_row(2, ["C1", "甲", "x"])])
    rows = list(reading.read_rows(io.BytesIO(package(sheet)), "b.xlsx"))

    assert rows == [(1, ["customer_no", "name"]), (2, ["C1", "甲"])]


def test_the_column_cap_is_a_setting_and_holds_for_csv(settings):
    settings.IMPORT_MAX_COLUMNS = 20
    fits = csv_bytes([], header=[*HEADER, "status"], raw_rows=[["C1", "甲"]])
    too_wide = csv_bytes([], header=[*HEADER, "status", "created_at"], raw_rows=[["C1", "甲"]])

    assert list(reading.read_rows(io.BytesIO(fits), "fits.csv"))[0] == (1, [*HEADER, "status"])
    with pytest.raises(reading.ImportFileError) as error:
        list(reading.read_rows(io.BytesIO(too_wide), "wide.csv"))
    assert error.value.messages == [
        "The header row has “created_at” in column U, but only the first 20 columns (A to T) are read. "
        "Move the columns you need to the left, delete the others and retry."
    ]


def test_csv_lines_longer_than_the_header_are_cut_to_it():
    data = b"\n\ncustomer_no,name\nC1,\xe7\x94\xb2" + b"," * 500_000 + b"far\n"

    began = time.perf_counter()
    rows = list(reading.read_rows(io.BytesIO(data), "long-line.csv"))

    assert time.perf_counter() - began < 1
    assert rows == [(1, []), (2, []), (3, ["customer_no", "name"]), (4, ["C1", "甲"])]


# --- What the reader relies on ---------------------------------------------------------------------
def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_openpyxl_is_the_minor_version_the_reader_was_written_for():
    import openpyxl

    from customers.imports.xlsx_package import OPENPYXL_SUPPORTED

    lowest, below = OPENPYXL_SUPPORTED
    assert lowest <= version(openpyxl.__version__) < below
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "openpyxl>=3.1.5,<3.2" in [r.split(";")[0].strip() for r in requirements]
    assert "defusedxml>=0.7.1" in requirements
    locked = dict(line.split("==") for line in (ROOT / "requirements.lock").read_text().split() if "==" in line)
    assert lowest <= version(locked["openpyxl"]) < below
    assert "defusedxml" in locked


def test_the_openpyxl_internals_the_reader_uses_exist():
    from openpyxl.packaging.relationship import get_rels_path
    from openpyxl.reader.excel import ExcelReader, _find_workbook_part
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.cell import column_index_from_string
    from openpyxl.utils.datetime import from_excel, from_ISO8601
    from openpyxl.workbook import Workbook
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_STYLE, SHARED_STRINGS

    for name in ("read_manifest", "read_workbook"):
        assert callable(getattr(ExcelReader, name))
    assert callable(_find_workbook_part) and callable(apply_stylesheet) and callable(from_excel)
    assert get_rels_path("xl/workbook.xml") == "xl/_rels/workbook.xml.rels"
    assert (ARC_CONTENT_TYPES, ARC_STYLE) == ("[Content_Types].xml", "xl/styles.xml")
    assert SHARED_STRINGS.endswith("sharedStrings+xml")
    assert column_index_from_string("ZZZ") == 18_278
    assert from_ISO8601("2024-02-29T00:00:00").day == 29
    workbook = Workbook()
    assert isinstance(workbook._date_formats, dict) and workbook.epoch is not None
