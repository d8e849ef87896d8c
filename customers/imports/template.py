"""The import template: a header row and one example row; the .xlsx also explains every column
(and the columns a file may hold instead of one of them, such as tenure_months)."""

import csv
import datetime as dt
import io
from decimal import Decimal

from ..columns import ALTERNATIVE_COLUMNS
from ..columns import TEMPLATE_COLUMNS as COLUMNS

HELP_HEADERS = ["Column 列名", "Required 必填", "Also accepted 其他列名", "What to enter", "填写说明", "Example 示例"]


def template_bytes(fmt: str) -> bytes:
    """The import template: header row and one example row; the .xlsx also explains every column."""
    if fmt == "csv":
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow([column.name for column in COLUMNS])
        writer.writerow([cell_text(column.example) for column in COLUMNS])
        return text.getvalue().encode("utf-8-sig")
    return _template_xlsx()


def cell_text(value) -> str:
    """An example value as a CSV cell or help text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def write_help_sheet(workbook, columns, notes) -> None:
    """The template's "Columns 说明" sheet: each column (name, required, other accepted headers, what
    to enter in English and Chinese, an example), then the notes; for every import's template."""
    from openpyxl.styles import Alignment, Font

    help_sheet = workbook.create_sheet("Columns 说明")
    help_sheet.append(
        ["Column 列名", "Required 必填", "Also accepted 其他列名", "What to enter", "填写说明", "Example 示例"]
    )
    for column in columns:
        help_sheet.append(
            [
                column.name,
                "yes 是" if column.required else "",
                ", ".join(column.aliases),
                column.help_en,
                column.help_zh,
                cell_text(column.example),
            ]
        )
    help_sheet.append([])
    for english, chinese in notes:
        help_sheet.append(["", "", "", english, chinese])
    bold = Font(bold=True)
    for cell in help_sheet[1]:
        cell.font = bold
    for letter, width in zip("ABCDEF", (16, 12, 30, 60, 50, 22), strict=True):
        help_sheet.column_dimensions[letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in help_sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    help_sheet.freeze_panes = "A2"


def _template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Customers"
    sheet.append([column.name for column in COLUMNS])
    sheet.append([float(c.example) if isinstance(c.example, Decimal) else c.example for c in COLUMNS])
    bold = Font(bold=True)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.cell(row=1, column=index).font = bold
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(30, len(column.name) + 6))
        example = sheet.cell(row=2, column=index)
        if isinstance(column.example, dt.date):
            example.number_format = "yyyy-mm-dd"
        elif isinstance(column.example, Decimal):
            example.number_format = "0.00"
        elif isinstance(column.example, str):
            example.number_format = "@"  # text: Excel keeps phone numbers and codes as typed
    sheet.freeze_panes = "A2"

    write_help_sheet(workbook, COLUMNS + ALTERNATIVE_COLUMNS, TEMPLATE_NOTES)  # alternatives explained too
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


TEMPLATE_NOTES = (
    (
        "Delete the example row (EXAMPLE-0001) before importing; it is refused.",
        "导入前请删除示例行（EXAMPLE-0001），否则会被拒绝。",
    ),
    (
        "A customer number that already exists updates that customer; a new number adds a customer.",
        "客户编号已存在时更新该客户；新编号会新增客户。",
    ),
    (
        "An empty cell never erases data: a new customer gets the default, an existing one keeps its value.",
        "空白单元格不会清除数据：新客户使用默认值，已有客户保留原值。",
    ),
    (
        "Column names may be in English or Chinese; choices may be codes or their English or Chinese names.",
        "列名可用英文或中文；选项可填代码或其中英文名称。",
    ),
    (
        "Contact consent: email_marketing, sms_marketing and phone_marketing (surveys and offers on that channel) "
        "and do_not_contact (every channel) take yes or no (是 or 否); consent given is recorded as given by the "
        "file and its line. A closed card's row may change its consent, nothing else.",
        "联系同意：email_marketing、sms_marketing、phone_marketing（该渠道的问卷和优惠）及 do_not_contact（所有渠道）"
        "填 是 或 否（yes 或 no）；同意记录为由该文件及行号给出。已销卡客户的行只能修改联系同意，不能修改其他内容。",
    ),
    (
        "Cells must hold values, not formulas: copy the columns and paste them as values.",
        "单元格须为数值而非公式：请复制后“选择性粘贴为数值”。",
    ),
    (
        "The whole file is checked first; nothing is imported unless every row is valid and you confirm.",
        "系统会先检查整个文件；只有全部行都正确并经您确认后才会导入。",
    ),
    (
        "CSV files may be saved as UTF-8 (with or without BOM) or GB18030/GBK.",
        "CSV 文件可使用 UTF-8（带或不带 BOM）或 GB18030/GBK 编码保存。",
    ),
)
