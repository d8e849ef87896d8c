"""The columns of a historical closures file: their names, the headers that mean them, their help, the template.

One table for the header matching (:func:`map_columns`) and the downloadable template
(:func:`template_bytes`), as customers/columns.py is for the customer import. Headers are compared
the customer import's way (case, spaces, ``_`` and ``-`` do not matter), in English or Chinese.
"""

import csv
import datetime as dt
import io

from django.utils.translation import gettext as _

from customers.columns import EXAMPLE_CUSTOMER_NO, Column
from customers.imports.headers import map_headers
from customers.imports.template import cell_text, write_help_sheet

COLUMNS: tuple[Column, ...] = (
    Column(
        "customer_no",
        "The customer number of an active card (import the customers first). Each card at most once per file.",
        "正常状态客户卡的客户编号（请先导入客户）。每张卡在一个文件中最多出现一次。",
        EXAMPLE_CUSTOMER_NO,
        ("客户编号", "客户号", "编号", "customer number", "customer no", "customer id"),
        required=True,
    ),
    Column(
        "action",
        "close, void or archive (also 销卡, 作废, 归档). Deletion is not history and cannot be imported.",
        "销卡、作废或归档（也可填 close、void、archive）。删除不是历史记录，不能导入。",
        "销卡",
        ("操作", "动作", "处理方式", "类型", "action type"),
        required=True,
    ),
    Column(
        "reason",
        "The reason's code, or its English or Chinese label, as on the Reasons page; it must be meant for the action.",
        "原因代码，或“原因”页面上的中文或英文名称；须适用于该操作。",
        "moved-away",
        ("原因", "注销原因", "销卡原因", "原因代码", "reason code"),
    ),
    Column(
        "category",
        "Instead of a reason: a reason category (key or label). The category's first active reason for the "
        "action, in display order, is used; a category with no reason for the action is refused.",
        "可代替原因：原因类别（代码或名称）。将使用该类别下适用于该操作的第一个有效原因（按显示顺序）；"
        "没有适用原因的类别会被拒绝。",
        "",
        ("原因类别", "类别", "分类", "reason category"),
    ),
    Column(
        "closed_at",
        "The date it happened: 2021-03-05, 2021/3/5, 2021年3月5日 or an Excel date cell, optionally with a time "
        "(2021-03-05 14:30). Not in the future, not before 1900, not before the card's customer since.",
        "发生日期：2021-03-05、2021/3/5、2021年3月5日或 Excel 日期单元格，可带时间（2021-03-05 14:30）。"
        "不能晚于今天、早于 1900 年或早于该卡的客户起始日期。",
        dt.date(2021, 3, 5),
        ("注销日期", "销卡日期", "日期", "关闭日期", "办理日期", "date closed", "closed on", "date"),
        required=True,
    ),
    Column(
        "notes",
        "Notes; required when the reason requires notes (reasons in the Other category always do).",
        "备注；原因要求填写备注时必填（“其他”类别的原因总是要求）。",
        "客户搬到成都",
        ("备注", "说明", "note"),
    ),
    Column(
        "performed_by",
        "Who did it: a username or a user's full name; any other name is kept as written, with you as the "
        "importing user.",
        "经办人：用户名或用户全名；其他名字按原文保存，并记录您为导入人。",
        "张三",
        ("经办人", "操作人", "办理人", "closed by", "by"),
    ),
    Column(
        "settlement_note",
        "How a remaining balance or points were settled; required for a card that still has either.",
        "余额或积分的结算方式；卡上仍有余额或积分时必填。",
        "",
        ("结算说明", "结算", "settlement"),
    ),
)


def map_columns(headers: list) -> dict[str, tuple[int, str]]:
    """Column name -> (index in the row, header as written); a missing, unknown or doubled column is a file error."""

    def reason_or_category(found: dict) -> list[str]:
        if "reason" not in found and "category" not in found:
            return [_("The file needs a reason column, a category column or both.")]
        return []

    return map_headers(headers, COLUMNS, check=reason_or_category)


# --- The template -----------------------------------------------------------------------------------

TEMPLATE_NOTES = (
    (
        "Delete the example row (EXAMPLE-0001) before importing; it is refused.",
        "导入前请删除示例行（EXAMPLE-0001），否则会被拒绝。",
    ),
    (
        "Each row closes, voids or archives one active card with its historical date, exactly as if it had "
        "been recorded then: the dashboard counts it in that month, tenure runs from the card's customer since.",
        "每一行以历史日期对一张正常状态的卡销卡、作废或归档，与当时在系统中办理完全相同："
        "分析页面计入该月份，客户时长从该卡的客户起始日期算起。",
    ),
    (
        "Give a reason, or only a category: then the category's first active reason for the action is used.",
        "请填写原因；只填类别时，使用该类别下适用于该操作的第一个有效原因。",
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


def template_bytes(fmt: str) -> bytes:
    """The template: a header row and one example row; the .xlsx also explains every column in both languages."""
    if fmt == "csv":
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow([column.name for column in COLUMNS])
        writer.writerow([cell_text(column.example) for column in COLUMNS])
        return text.getvalue().encode("utf-8-sig")
    return _template_xlsx()


def _template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Closures"
    sheet.append([column.name for column in COLUMNS])
    sheet.append([column.example if column.example != "" else None for column in COLUMNS])
    bold = Font(bold=True)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.cell(row=1, column=index).font = bold
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column.name) + 6)
        example = sheet.cell(row=2, column=index)
        example.number_format = "yyyy-mm-dd" if isinstance(column.example, dt.date) else "@"
    sheet.freeze_panes = "A2"

    write_help_sheet(workbook, COLUMNS, TEMPLATE_NOTES)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
