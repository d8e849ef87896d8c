"""The columns of a historical tickets file: their names, the headers that mean them, their help, the template.

One sheet, two kinds of row (documented on the import page and in the template):

- a **ticket row** (the ``kind`` cell empty): one ticket with its customer, category, subject, times;
- a **step row** (``kind`` filled: work, note, reply): one step of the ticket whose ``number`` it
  gives, or, with ``number`` empty, of the ticket row above it. The step's text is in ``content``
  (and ``result``, ``by``, ``when``, ``minutes``); the ticket columns of a step row are ignored.

One sheet rather than a second "Steps" sheet: the customer import's safe readers
(customers.imports.read_rows) read a file's first sheet, and a CSV file has only one; a ticket's
steps right under it read naturally in a spreadsheet too.
"""

import csv
import datetime as dt
import io

from customers.columns import EXAMPLE_CUSTOMER_NO, Column
from customers.imports.headers import map_headers
from customers.imports.template import cell_text, write_help_sheet

COLUMNS: tuple[Column, ...] = (
    Column(
        "number",
        "The ticket's number (S2024-000123), kept when no other ticket has it; empty: one is given. "
        "On a step row: the ticket the step belongs to (empty: the ticket row above).",
        "处理单编号（如 S2024-000123），未被占用时保留；留空则自动生成。"
        "步骤行：该步骤所属处理单（留空：上方的处理单）。",
        "S2024-000123",
        ("处理单编号", "单号", "编号", "ticket number", "ticket no", "ticket"),
    ),
    Column(
        "customer_no",
        "The customer number of an existing card (not void or deleted).",
        "已有客户卡的客户编号（不能是已作废或已删除的卡）。",
        EXAMPLE_CUSTOMER_NO,
        ("客户编号", "客户号", "customer number", "customer no"),
        required=True,
    ),
    Column(
        "channel",
        "phone, email, wechat, store or web (or their names in English or Chinese); empty: phone.",
        "渠道：phone、email、wechat、store、web（或中英文名称）；留空为电话。",
        "电话",
        ("渠道", "来源渠道"),
    ),
    Column(
        "category",
        "The category's key or its label in English or Chinese (retired categories are accepted).",
        "类别代码或中英文名称（已停用的类别也可）。",
        "投诉",
        ("类别", "分类", "处理单类别"),
        required=True,
    ),
    Column(
        "priority",
        "low, normal, high or urgent (or their names); empty: normal.",
        "优先级：low、normal、high、urgent（或中英文名称）；留空为普通。",
        "high",
        ("优先级",),
    ),
    Column(
        "subject",
        "A few words: what the ticket is about.",
        "主题：简述处理单内容。",
        "热水壶漏水",
        ("主题", "标题"),
        True,
    ),
    Column(
        "need",
        "The customer's need, in their words.",
        "客户诉求（客户原话）。",
        "要求更换",
        ("客户诉求", "诉求", "需求"),
    ),
    Column(
        "team",
        "The team's name in English or Chinese.",
        "处理团队的中文或英文名称。",
        "售后",
        ("团队", "部门", "处理部门"),
    ),
    Column(
        "assignee",
        "A username or a user's full name.",
        "处理人：用户名或用户全名。",
        "",
        ("处理人", "负责人", "经办人"),
    ),
    Column(
        "status",
        "new, assigned, in_progress, waiting, resolved, closed or cancelled (or their names); empty: worked out "
        "from the times (closed at → closed, resolved at → resolved, else new or assigned).",
        "状态（或中英文名称）；留空时按时间推定（有关闭时间为已关闭，有解决时间为已解决，否则为新建或已分派）。",
        "closed",
        ("状态", "处理状态"),
    ),
    Column(
        "opened_at",
        "When the ticket was opened: 2024-03-05 14:30 (or a date, or an Excel date cell). Not in the future.",
        "开单时间：2024-03-05 14:30（或日期、Excel 日期单元格）；不能晚于现在。",
        dt.datetime(2024, 3, 5, 14, 30),
        ("开单时间", "创建时间", "受理时间", "opened", "created at"),
        required=True,
    ),
    Column(
        "first_response_at",
        "The first answer to the customer.",
        "首次响应时间。",
        "",
        ("首次响应时间", "首次响应", "first response"),
    ),
    Column(
        "resolved_at", "When it was resolved.", "解决时间。", dt.datetime(2024, 3, 6, 10, 0), ("解决时间", "resolved")
    ),
    Column(
        "closed_at",
        "When it was closed (or cancelled).",
        "关闭（或取消）时间。",
        dt.datetime(2024, 3, 7, 9, 0),
        ("关闭时间", "closed"),
    ),
    Column(
        "kind",
        "Empty on a ticket row. On a step row: work, note (internal) or reply (told the customer).",
        "处理单行留空。步骤行：work（处理）、note（内部备注）或 reply（答复客户）。",
        "",
        ("步骤类型", "步骤", "step kind", "step"),
    ),
    Column(
        "content",
        "The step: what was done or said.",
        "步骤内容：做了什么或说了什么。",
        "",
        ("步骤内容", "内容", "处理内容"),
    ),
    Column("result", "The step's result.", "步骤结果。", "", ("结果", "处理结果")),
    Column(
        "by",
        "Who did the step: a username or full name; any other name is kept in the step's text.",
        "步骤经办人：用户名或全名；其他名字记入步骤内容。",
        "",
        ("步骤经办人", "操作人", "step by"),
    ),
    Column(
        "when",
        "When the step happened (not before the ticket opened).",
        "步骤时间（不能早于开单时间）。",
        "",
        ("步骤时间", "时间", "step at"),
    ),
    Column(
        "minutes",
        "Minutes spent on the step (0 to 1440).",
        "步骤用时（分钟，0–1440）。",
        "",
        ("用时", "分钟", "minutes spent"),
    ),
)

STEP_COLUMNS = ("kind", "content", "result", "by", "when", "minutes")


def map_columns(headers: list) -> dict[str, tuple[int, str]]:
    """Column name -> (index, header as written); a missing, unknown or doubled column is a file error."""
    return map_headers(headers, COLUMNS)


TEMPLATE_NOTES = (
    (
        "Delete the example rows before importing: EXAMPLE-0001 is refused.",
        "导入前请删除示例行：EXAMPLE-0001 会被拒绝。",
    ),
    (
        "A row with an empty kind is a ticket; a row with a kind (work, note, reply) is a step of the ticket "
        "it names by number, or of the ticket row above it.",
        "“步骤类型”为空的行是处理单；填写了步骤类型（work、note、reply）的行是步骤，属于其编号所指的处理单，编号留空时属于上方的处理单。",
    ),
    (
        "Imported tickets get the SLA targets of the policies in force now, and are marked late where the "
        "given times missed them (counted in working time).",
        "导入的处理单采用当前的 SLA 政策目标，并按所给时间（按工作时间计算）标记是否超时。",
    ),
    (
        "The whole file is checked first; nothing is imported unless every row is valid and you confirm.",
        "系统会先检查整个文件；只有全部行都正确并经您确认后才会导入。",
    ),
)

_EXAMPLE_STEP = {
    "number": "S2024-000123",
    "kind": "reply",
    "content": "已安排上门更换",
    "by": "",
    "when": dt.datetime(2024, 3, 5, 16, 0),
    "minutes": 20,
}


def _example_rows() -> list[list]:
    ticket = [column.example for column in COLUMNS]
    step = [_EXAMPLE_STEP.get(column.name, "") for column in COLUMNS]
    return [ticket, step]


def template_bytes(fmt: str) -> bytes:
    """The template: the header, an example ticket and one of its steps; the .xlsx explains every column."""
    if fmt == "csv":
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow([column.name for column in COLUMNS])
        for row in _example_rows():
            writer.writerow([cell_text(value) for value in row])
        return text.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Tickets"
    sheet.append([column.name for column in COLUMNS])
    for row in _example_rows():
        sheet.append([value if value != "" else None for value in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    write_help_sheet(workbook, COLUMNS, TEMPLATE_NOTES)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
