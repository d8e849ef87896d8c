"""What the .xlsx reader returns for each kind of cell, sheet and string table (kept through its rewrite, issue 16).

Shared strings are checked against openpyxl's own reading of the same table, an independent
reader of the format; the rest against values written by openpyxl or by hand.
"""

import datetime as dt
import io
import re
import zipfile

import pytest
from openpyxl import Workbook
from openpyxl.reader.strings import read_string_table
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from customers.imports import reading
from customers.imports.limits import CellError, Formula
from customers.imports.xlsx_strings import SharedStrings
from tests.fixtures.hostile_workbooks import MAIN, package, sheet_xml

ITEMS = [
    "<t>plain</t>",
    '<t xml:space="preserve">  spaced  </t>',
    "<t>&amp; &lt;b&gt; &#x4E2D;&#25991;</t>",
    "<t><![CDATA[<cdata> & more]]></t>",
    "<t>emoji 😀 and 王芳</t>",
    "<r><rPr><b/></rPr><t>rich </t></r><r><t>text</t></r>",
    '<t>拼音</t><rPh sb="0" eb="2"><t>pīnyīn</t></rPh><phoneticPr fontId="1"/>',
    "<t>_x005F_x000D_ kept as written</t>",
    "<t/>",
    "",
    "<t>line\nbreak</t>",
]


def table(items, prefix: str = "") -> bytes:
    """A shared strings table of ``items`` (each an <si>'s content), its names prefixed ("x:si") if asked."""
    xmlns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    xml = f'<?xml version="1.0" encoding="UTF-8"?><sst {xmlns} uniqueCount="{len(items)}">'
    xml += "".join(f"<si>{item}</si>" for item in items) + "</sst>"
    if prefix:
        xml = re.sub(r"<(/?)(?=[a-zA-Z])", rf"<\1{prefix}:", xml)
    return xml.encode()


def read_all(data: bytes, count: int) -> list[str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/sharedStrings.xml", data)
    with zipfile.ZipFile(buffer) as archive:
        strings = SharedStrings(archive, "xl/sharedStrings.xml")
        return [strings[i] for i in range(count)]


@pytest.mark.parametrize("prefix", ["", "x"])
def test_shared_strings_read_as_openpyxl_reads_them(prefix):
    data = table(ITEMS, prefix)

    expected = list(read_string_table(io.BytesIO(data)))

    assert len(expected) == len(ITEMS)
    assert read_all(data, len(ITEMS)) == expected
    assert expected[5:8] == ["rich text", "拼音", "_x000D_ kept as written"]


def test_a_utf16_string_table_is_read():
    data = table(ITEMS[:5]).replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode().encode("utf-16")

    assert read_all(data, 5) == list(read_string_table(io.BytesIO(data)))


def workbook_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("epoch", ["1900", "1904"])
def test_date_cells_are_read_as_dates_in_either_calendar(epoch):
    workbook = Workbook()
    if epoch == "1904":
        workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    sheet.append(["customer_no", "birth_date", "points"])
    sheet.append(["C1", dt.datetime(1990, 5, 17), 5])

    rows = list(reading.read_rows(io.BytesIO(workbook_bytes(workbook)), "dates.xlsx"))

    assert rows[1] == (2, ["C1", dt.datetime(1990, 5, 17), 5])


@pytest.mark.parametrize(
    ("names", "expected"), [(["Notes", "客户"], "客户"), (["Notes", " CUSTOMERS "], " CUSTOMERS "), (["A", "B"], "A")]
)
def test_the_customers_sheet_is_read_wherever_it_is(names, expected):
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name in names:
        workbook.create_sheet(name).append(["customer_no", "name", name])

    rows = list(reading.read_rows(io.BytesIO(workbook_bytes(workbook)), "sheets.xlsx"))

    assert rows == [(1, ["customer_no", "name", expected])]


def test_every_kind_of_cell_is_read():
    cells = (
        '<c r="A2" t="b"><v>1</v></c><c r="B2" t="e"><v>#N/A</v></c><c r="C2"><v>42</v></c>'
        '<c r="D2"><v>-4.5</v></c><c r="E2" t="d"><v>2024-02-29T00:00:00</v></c>'
        '<c r="F2"><f>1+2</f><v>3</v></c><c r="G2" t="str"><f>A1&amp;"x"</f><v>ax</v></c>'
        '<c r="H2" t="inlineStr"><is><t>inline</t></is></c><c r="I2" t="s"><v>0</v></c><c r="J2" t="s"><v/></c>'
        "<c><v>7</v></c>"  # no reference: the column after the previous cell
    )
    header = "".join(f'<c r="{c}1" t="inlineStr"><is><t>h{c}</t></is></c>' for c in "ABCDEFGHIJK")
    sheet = sheet_xml([f'<row r="1">{header}</row>', f'<row r="2">{cells}</row>'])
    data = package(sheet, shared_strings=table(["<t>shared</t>"]))

    (_header, (line, values)) = list(reading.read_rows(io.BytesIO(data), "kinds.xlsx"))

    assert line == 2
    assert values == [True, "#N/A", 42, -4.5, dt.datetime(2024, 2, 29), "=1+2", '=A1&"x"', "inline", "shared", None, 7]
    assert (type(values[1]), type(values[5]), type(values[6])) == (CellError, Formula, Formula)


def test_prefixed_element_names_are_read():
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
        '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>name</x:t></x:is></x:c>'
        "</x:row></x:sheetData></x:worksheet>"
    )
    data = package(sheet.encode(), shared_strings=table(["<t>customer_no</t>"], "x"))

    assert list(reading.read_rows(io.BytesIO(data), "prefixed.xlsx")) == [(1, ["customer_no", "name"])]


def test_rows_before_the_header_are_empty_and_keep_their_numbers():
    sheet = sheet_xml(
        [
            '<row r="2"><c r="C2" t="inlineStr"><is><t>   </t></is></c></row>',
            '<row r="4"><c r="B4" t="inlineStr"><is><t>customer_no</t></is></c></row>',
            '<row r="5"><c r="A5"><v>1</v></c><c r="B5"><v>2</v></c><c r="C5"><v>3</v></c></row>',
            "<row/>",
        ]
    )

    rows = list(reading.read_rows(io.BytesIO(package(sheet)), "offset.xlsx"))

    assert rows == [(2, []), (4, [None, "customer_no"]), (5, [1, 2]), (6, [])]
