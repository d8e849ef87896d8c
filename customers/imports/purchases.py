"""Importing purchase history from .xlsx and .csv: every row checked, then all written or none.

    import_purchases(rows_or_file, *, by, create_missing_cards=False, file_name="", using="default")
        -> PurchaseReport

A row is one purchase on one card: customer number, date, amount, and optionally the product and
the quantity (headers in English or Chinese, matched as the other imports match theirs:
customers.imports.headers). Every row is checked before anything is written, and every problem
is listed with its line and column ("Line 7, amount: The amount cannot be negative."): an unknown
customer number, a date that is not one, in the future or before 1900, a negative amount, a
quantity below 1, a card that is not active (the card gate's own wording,
customers.gate.status_refusal). A file with any problem writes nothing, as the customer and closure
imports do: a half-imported history would be worse than none, and fixing the file then importing it
again must not double the purchases that went in the first time.

A valid file is written in one transaction: its cards locked in primary-key order (the order the
customer import and bulk closing lock in), the purchases inserted ``BATCH`` at a time, each card's
purchase figures (count, total, last purchase, the ones ``gate.record_purchase`` keeps) recounted
from its rows in one statement per batch of cards, and one ``purchase.import`` audit entry for the
file. Going through ``record_purchase`` row by row would cost a lock, three updates and an audit
entry per purchase: minutes for the 69,659 rows of the CDNOW history, where this takes seconds.

With ``create_missing_cards`` a customer number no card has becomes a new card (named by its number)
through the customer import itself (customers.imports.operation.run_import), so new cards get the
same checks and audit entries as any imported card.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit

from .. import batch, gate
from ..columns import EXAMPLE_CUSTOMER_NO, Column
from ..models import Customer, Purchase
from ..resources import BALANCE_MAX, CustomerNumberWidget, PastDateWidget, TextWidget
from .headers import data_rows, map_headers
from .limits import CellError, Formula, ImportFileError, max_rows
from .reading import read_rows
from .report import ImportReport

PERMISSIONS = ("customers.import_customers", "customers.add_purchase")
BATCH = 2000

COLUMNS: tuple[Column, ...] = (
    Column(
        "customer_no",
        "The customer number of an active card (import the customers first).",
        "正常状态客户卡的客户编号（请先导入客户）。",
        EXAMPLE_CUSTOMER_NO,
        ("客户编号", "客户号", "编号", "客户ID", "customer number", "customer no", "customer id"),
        required=True,
    ),
    Column(
        "purchased_on",
        "The day of the purchase: 2021-03-05, 2021/3/5, 20210305 or an Excel date cell; not in the future.",
        "购买日期：2021-03-05、2021/3/5、20210305 或 Excel 日期单元格；不能晚于今天。",
        dt.date(2021, 3, 5),
        ("date", "purchase date", "purchased on", "日期", "购买日期", "消费日期", "交易日期"),
        required=True,
    ),
    Column(
        "amount",
        "What the customer paid, 0 or more, at most two decimals (¥ and thousands separators are ignored).",
        "消费金额，0 或以上，最多两位小数（忽略 ¥ 和千位分隔符）。",
        "199.00",
        ("金额", "消费金额", "购买金额", "交易金额", "dollar value", "value", "total"),
        required=True,
    ),
    Column(
        "product",
        "What was bought (optional).",
        "购买的商品（可选）。",
        "会员年卡",
        ("商品", "产品", "商品名称", "product name", "item"),
    ),
    Column(
        "quantity",
        "How many, a whole number of 1 or more (optional; 1 when empty).",
        "数量，1 或以上的整数（可选；为空时为 1）。",
        1,
        ("数量", "件数", "qty", "number"),
    ),
)


@dataclass
class PurchaseReport(ImportReport):
    """The import report (customers.imports.report) with what this import adds: cards touched and
    created. ``created`` counts the purchases written (or that would be, before writing)."""

    cards: int = 0
    new_cards: int = 0

    @property
    def purchases(self) -> int:
        return self.created


@dataclass(frozen=True)
class Row:
    line: int
    number: str
    purchased_on: dt.date
    amount: Decimal
    product: str
    quantity: int


def import_purchases(
    rows_or_file,
    *,
    by,
    create_missing_cards: bool = False,
    file_name: str = "",
    using: str = DEFAULT_DB_ALIAS,
) -> PurchaseReport:
    """Check every row and, if none has a problem, write every purchase (all or nothing).

    ``rows_or_file``: a path, an open file (``file_name`` gives its type when it has no name), or
    (line, cells) rows as customers.imports.read_rows gives them, the header first.
    ``by=None`` is the system itself (no permission checked, no user named).
    """
    name = file_name or _name_of(rows_or_file)
    report = PurchaseReport(file_name=name)
    try:
        if by is not None and not by.has_perms(PERMISSIONS):
            raise ValidationError(_("Only an Admin can import purchases."))
        if create_missing_cards and using != DEFAULT_DB_ALIAS:
            raise ValidationError(_("New cards can only be created in the default database."))
        with transaction.atomic(using=using), _opened(rows_or_file, name) as rows:
            _Import(report, by, using=using, create_missing_cards=create_missing_cards).run(rows)
            if not report.written:
                transaction.set_rollback(True, using=using)
    except ImportFileError as error:
        report.file_errors = error.messages
    except ValidationError as error:
        report.file_errors = list(error.messages)
    except IntegrityError:
        report.file_errors = [
            _("Someone changed the same cards while the file was being imported; nothing was written. Try again.")
        ]
    except DatabaseError:
        report.file_errors = [_("The database refused the import; nothing was written. Try again later.")]
    if report.file_errors:
        report.written = False
    return report


def _name_of(source) -> str:
    if isinstance(source, str | Path):
        return Path(source).name
    return Path(getattr(source, "name", "") or "").name


class _opened:
    """The (line, cells) rows of a path, a file or rows, the path's file open while they are read."""

    def __init__(self, source, name: str):
        self.source, self.name, self.file = source, name, None

    def __enter__(self) -> Iterator[tuple[int, list]]:
        if isinstance(self.source, str | Path):
            self.file = open(self.source, "rb")  # noqa: SIM115 (closed by __exit__)
            return read_rows(self.file, self.name)
        if hasattr(self.source, "read"):
            return read_rows(self.source, self.name)
        return iter(self.source)

    def __exit__(self, *exc) -> None:
        if self.file is not None:
            self.file.close()


class _Import:
    def __init__(self, report: PurchaseReport, by, *, using: str, create_missing_cards: bool):
        self.report, self.by, self.using = report, by, using
        self.create_missing_cards = create_missing_cards
        self.headers: dict[str, str] = {}
        self.number = CustomerNumberWidget()
        self.day = PastDateWidget()
        self.product = TextWidget(Purchase._meta.get_field("product").max_length)

    def problem(self, line: int, name: str, message, value="") -> None:
        self.report.add_problem(line, self.headers.get(name, name), str(message), value)

    def run(self, rows: Iterable[tuple[int, list]]) -> None:
        good = self.read(rows)
        cards = self.check_cards(good)
        good = [row for row in good if row.line not in self.report.bad_lines]
        self.report.created = len(good)
        self.report.cards = len({row.number for row in good})
        self.report.problems.sort(key=lambda problem: problem.line)
        if self.report.ok:
            self.write(good, cards)

    # --- the cells -------------------------------------------------------------------------------
    def read(self, rows: Iterable[tuple[int, list]]) -> list[Row]:
        too_many = _("The file has more than %(max)s purchases; split it into smaller files.")
        good, headers = [], lambda values: map_headers(values, COLUMNS)
        for line, raw in data_rows(rows, headers, self, limit=max_rows(), too_many=too_many):
            row = self.clean(line, raw)
            if row is not None:
                good.append(row)
        return good

    def clean(self, line: int, raw: dict) -> Row | None:
        readers = {
            "customer_no": self.number.clean,
            "purchased_on": self.day.clean,
            "amount": amount_of,
            "product": self.product.clean,
            "quantity": quantity_of,
        }
        values, bad = {}, False
        for name, value in raw.items():
            if isinstance(value, Formula | CellError):
                message = (
                    _("The cell holds a formula (%(formula)s); formulas are not imported. Paste the column as values.")
                    if isinstance(value, Formula)
                    else _("The cell shows an Excel error (%(error)s).")
                ) % {"formula": value, "error": value}
                self.problem(line, name, message, value)
                bad = True
                continue
            try:
                values[name] = readers[name](value)
            except ValueError as error:
                self.problem(line, name, error, value)
                bad = True
                continue
            if values[name] is None and name in ("purchased_on", "amount"):
                self.problem(line, name, _("This column is required; the cell is empty."))
                bad = True
        if values.get("customer_no") == EXAMPLE_CUSTOMER_NO:
            self.problem(line, "customer_no", _("This is the template's example row; delete it before importing."))
            bad = True
        if bad:
            return None
        return Row(
            line,
            values["customer_no"],
            values["purchased_on"],
            values["amount"],
            values.get("product") or "",
            values.get("quantity") or 1,
        )

    # --- the cards -------------------------------------------------------------------------------
    def cards_of(self, numbers: list[str], *, lock: bool) -> dict[str, tuple[int, str]]:
        """Customer number -> (card id, status), a chunk of numbers a query; locked in pk order."""
        found: dict[str, tuple[int, str]] = {}
        cards = Customer.objects.using(self.using)
        for start in range(0, len(numbers), BATCH):
            chunk = numbers[start : start + BATCH]
            for pk, number, status in cards.filter(customer_no__in=chunk).values_list("pk", "customer_no", "status"):
                found[number] = (pk, status)
        if lock:
            cards.lock_ids(pk for pk, _status in found.values())
        return found

    def check_cards(self, rows: list[Row]) -> dict[str, tuple[int, str]]:
        """Every row's card exists (or will be created) and is active: the gate's rule, in its words."""
        numbers = sorted({row.number for row in rows})
        cards = self.cards_of(numbers, lock=True)
        missing = set()
        for row in rows:
            card = cards.get(row.number)
            if card is None:
                if self.create_missing_cards:
                    missing.add(row.number)
                    continue
                self.problem(
                    row.line,
                    "customer_no",
                    _("No card has the customer number %(number)s; import the customer first.")
                    % {"number": row.number},
                    row.number,
                )
                continue
            refusal = gate.status_refusal(card[1], row.number)
            if refusal:
                if card[1] != Customer.Status.ERASED:
                    refusal = _("%(refusal)s Or remove the row.") % {"refusal": refusal}
                self.problem(row.line, "customer_no", refusal, row.number)
        self.report.new_cards = len(missing)
        return cards

    def create_cards(self, numbers: list[str]) -> dict[str, tuple[int, str]]:
        """New cards for these numbers, through the customer import (its checks, batch and audit)."""
        from .operation import run_import

        rows = [(1, ["customer_no", "name"])] + [(i, [n, n]) for i, n in enumerate(numbers, start=2)]
        made = run_import(lambda: iter(rows), self.report.file_name, user=self.by, commit=True)
        if not made.written:
            raise ValidationError(made.file_errors or [str(problem) for problem in made.shown_problems])
        return self.cards_of(numbers, lock=False)

    # --- the writing -----------------------------------------------------------------------------
    def write(self, rows: list[Row], cards: dict[str, tuple[int, str]]) -> None:
        missing = sorted({row.number for row in rows} - set(cards))
        if missing:
            cards = {**cards, **self.create_cards(missing)}
        now = timezone.now()
        by = self.by if self.by is not None and self.by.pk else None
        purchases = Purchase.objects.using(self.using)
        for start in range(0, len(rows), BATCH):
            purchases.bulk_create(
                [
                    Purchase(
                        customer_id=cards[row.number][0],
                        product=row.product,
                        quantity=row.quantity,
                        amount=row.amount,
                        purchased_on=row.purchased_on,
                        recorded_by=by,
                        created_at=now,
                    )
                    for row in rows[start : start + BATCH]
                ]
            )
        batch.recount_purchases(sorted({cards[row.number][0] for row in rows}), using=self.using, now=now)
        self.audit()
        self.report.written = True

    def audit(self) -> None:
        report = self.report
        audit.record(
            "purchase.import",
            actor=self.by,
            object_type="import",
            summary=report.file_name,
            changes={
                "file": [None, report.file_name],
                "rows": [None, report.rows],
                "purchases": [None, report.created],
                "cards": [None, report.cards],
                "new_cards": [None, report.new_cards],
            },
            data={"columns": report.columns},
        )


def amount_of(value) -> Decimal | None:
    """Money: 0 or more, at most two decimals; "¥1,200.50" is read as 1200.50."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = re.sub(r"[\s,¥￥$]", "", repr(value) if isinstance(value, float) else str(value))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(_("“%(value)s” is not an amount; write it like 199.00.") % {"value": text[:40]})
    if amount < 0:
        raise ValueError(_("The amount cannot be negative; leave a refund out of the purchase history."))
    if amount > BALANCE_MAX:
        raise ValueError(_("%(value)s is larger than the maximum, %(max)s.") % {"value": text[:40], "max": BALANCE_MAX})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("%(value)s has more than 2 decimal places.") % {"value": text[:40]})
    return amount.quantize(Decimal("0.01"))


def quantity_of(value) -> int | None:
    """A whole number of 1 or more (None: the cell is empty, so 1)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    if not re.fullmatch(r"\+?\d{1,9}", text) or int(text) < 1:
        raise ValueError(_("“%(value)s” is not a quantity; write a whole number of 1 or more.") % {"value": text[:40]})
    return int(text)
