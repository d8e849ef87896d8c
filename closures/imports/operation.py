"""The import of historical closures: check every row, then write them all through the closure writes, or none.

    import_history(rows, file_name, *, user, commit, request=None) -> HistoryReport

``rows`` is called for the file's (line, values) rows (customers.imports.read_rows). Without
``commit`` it is the preview: every problem with its line and column. With ``commit`` the whole
file is checked again, inside one transaction, against the cards as they are then (locked in
primary-key order, the order bulk closing and the customer import lock in), and written only if
no row has a problem.

Every row is checked with the closure rules' own functions (closures.rules: ``check_closing`` for
the card, ``check_notes`` for the reason), so an imported closure is refused for exactly the
reasons a card's page would refuse it, in the same words. The import adds what only history
needs: the date (not in the future, not before 1900, not before the card's "customer since", not
before a closure the card already has), the performer as a name, and no deletions.

What is written is what the card's page would have written at that moment (closures.writes):
``new_closure(..., performed_at=...)`` snapshots segment, owner, money and tenure (from "customer
since" to the row's date), ``write_closures`` keeps the dashboard's tallies in step, ``set_status``
sets the cards' statuses, and ``record_imported_closures`` writes one audit entry per card naming
the file and the line. One ``customers.ImportBatch`` (kind closures) records the file, and every
closure points to it.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit
from crm.formatting import money
from customers.columns import EXAMPLE_CUSTOMER_NO
from customers.imports import ImportFileError, ImportReport
from customers.imports.headers import data_rows
from customers.imports.reading import CellError, Formula
from customers.imports.report import short_value
from customers.models import Customer, ImportBatch
from customers.numbers import clean_customer_no

from .. import rules, writes
from ..models import ACTION_STATUS, Closure, Settlement
from ..rules import ClosureChoice
from . import cells
from .columns import COLUMNS, map_columns
from .limits import max_rows

logger = logging.getLogger(__name__)
PERMISSIONS = ("customers.import_customers", "closures.add_closure", "closures.change_closurereason")
QUERY_CHUNK = 2000
# Which column a refusal of closures.rules.check_closing belongs to, by its code.
RULE_COLUMNS = {
    "action": "action",
    "reason": "reason",
    "retired": "reason",
    "notes": "notes",
    "balance": "settlement_note",
}


@dataclass
class HistoryReport(ImportReport):
    """The customer import's report, with the closures counted by action and the batch written."""

    by_action: dict[str, int] = field(default_factory=dict)
    batch_id: int | None = None

    @property
    def closures(self) -> int:
        return sum(self.by_action.values())


@dataclass
class Row:
    line: int
    number: str
    action: str
    reason: object
    moment: object
    notes: str = ""
    settlement_note: str = ""
    performer: object = None
    performer_name: str = ""
    bad: bool = False  # a cell has a problem: only its card's existence is still checked, never written


def import_history(rows: Callable[[], Iterator], file_name: str, *, user, commit: bool, request=None) -> HistoryReport:
    """Check every row and, when ``commit`` is set and nothing is wrong, write every closure (all or nothing)."""
    report = HistoryReport(file_name=file_name)
    try:
        if not user.has_perms(PERMISSIONS):
            raise ValidationError(_("Only an Admin can import historical closures."))
        if commit:
            with transaction.atomic():
                _Import(report, user, commit=True, request=request).run(rows())
                if not report.ok:
                    transaction.set_rollback(True)
        else:
            _Import(report, user, commit=False).run(rows())
    except ImportFileError as error:
        report.file_errors = error.messages
    except ValidationError as error:
        report.file_errors = list(error.messages)
    except IntegrityError:
        logger.warning("closure import hit a conflicting change", exc_info=True)
        report.file_errors = [
            _("Someone changed the same cards while the file was being imported; nothing was written. Try again.")
        ]
    except DatabaseError:
        logger.exception("closure import failed in the database")
        report.file_errors = [_("The database refused the import; nothing was written. Try again later.")]
    report.written = bool(report.written and report.ok and not report.file_errors)
    if not report.written:
        report.batch_id = None
    return report


class _Import:
    def __init__(self, report: HistoryReport, user, *, commit: bool, request=None):
        self.report = report
        self.user = user
        self.commit = commit
        self.request = request
        self.headers: dict[str, str] = {}

    def header(self, name: str) -> str:
        return self.headers.get(name, name)

    def problem(self, line: int, name: str, message, value="") -> None:
        self.report.add_problem(line, self.header(name), str(message), value)

    def run(self, rows: Iterator[tuple[int, list]]) -> None:
        checked = self.check_cards(self.read(rows))
        self.report.problems.sort(key=lambda problem: problem.line)
        self.report.warnings.sort(key=lambda warning: warning.line)
        if self.commit and self.report.ok:
            self.write(checked)

    # --- the cells -------------------------------------------------------------------------------
    def read(self, rows) -> list[Row]:
        good: list[Row] = []
        reasons = cells.Reasons()
        performers = cells.Performers(get_user_model().objects.only("username", "first_name", "last_name"))
        too_many = _("The file has more than %(max)s closures; split it into smaller files.")
        for line, raw in data_rows(rows, map_columns, self, limit=max_rows(), too_many=too_many):
            row = self.clean(line, raw, reasons, performers)
            if row is not None:
                good.append(row)
        return good

    def clean(self, line: int, raw: dict, reasons: cells.Reasons, performers: cells.Performers) -> Row | None:
        values, bad = {}, False
        for name, value in raw.items():
            if isinstance(value, Formula | CellError):
                message = (
                    _("The cell holds a formula (%(formula)s); formulas are not imported. Paste the column as values.")
                    if isinstance(value, Formula)
                    else _("The cell shows an Excel error (%(error)s).")
                ) % {"formula": short_value(value), "error": value}
                self.problem(line, name, message, value)
                bad = True
            elif value is not None and cells.text(value) != "":
                values[name] = value
        for column in COLUMNS:
            missing = column.required and column.name not in values and column.name in raw
            if missing and not isinstance(raw[column.name], Formula | CellError):
                self.problem(line, column.name, _("This column is required; the cell is empty."))
                bad = True
        readers = {
            "customer_no": lambda v: clean_customer_no(cells.text(v)),
            "action": cells.action_of,
            "closed_at": cells.moment_of,
            "notes": cells.notes_of,
            "settlement_note": cells.notes_of,
            "performed_by": performers.find,
            "category": reasons.category,
        }
        cleaned = {}
        for name, read in readers.items():
            if name in values:
                try:
                    cleaned[name] = read(values[name])
                except (ValueError, ValidationError) as error:
                    text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
                    self.problem(line, name, text, values[name])
                    bad = True
        if cleaned.get("customer_no") == EXAMPLE_CUSTOMER_NO:
            self.problem(line, "customer_no", _("This is the template's example row; delete it before importing."))
            bad = True
        reason = self.reason(line, values, cleaned, reasons)
        if bad or reason is None:
            # Its card is still looked up (every problem in one pass), when the number itself is good.
            number = cleaned.get("customer_no")
            if number and number != EXAMPLE_CUSTOMER_NO:
                return Row(line, number, cleaned.get("action", ""), reason, cleaned.get("closed_at"), bad=True)
            return None
        performer, name, shared = cleaned.get("performed_by", (None, "", False))
        if shared:
            self.report.add_warning(
                line,
                self.header("performed_by"),
                _("Several users are called “%(name)s”; the name is kept as written.") % {"name": name},
                name,
            )
        return Row(
            line,
            cleaned["customer_no"],
            cleaned["action"],
            reason,
            cleaned["closed_at"],
            notes=cleaned.get("notes", ""),
            settlement_note=cleaned.get("settlement_note", ""),
            performer=performer,
            performer_name=name,
        )

    def reason(self, line: int, values: dict, cleaned: dict, reasons: cells.Reasons):
        """The row's reason: the one it names, or its category's first for the action; its notes checked."""
        action = cleaned.get("action")
        if action is None:
            return None
        if "reason" not in values and "category" not in values:
            self.problem(line, "reason" if "reason" in self.headers else "category", _("Give a reason or a category."))
            return None
        try:
            if "reason" in values:
                reason = reasons.by_name(values["reason"], action)
            elif "category" in cleaned:
                reason = reasons.first_in(cleaned["category"], action)
            else:
                return None
        except ValueError as error:
            self.problem(line, "reason" if "reason" in values else "category", error, values.get("reason", ""))
            return None
        if "category" in cleaned and reason.category != cleaned["category"]:
            self.problem(
                line,
                "category",
                _("The reason “%(reason)s” is not in this category.") % {"reason": reason.label},
                values["category"],
            )
            return None
        try:
            rules.check_notes(reason, cleaned.get("notes", ""))
        except ValidationError as error:
            self.problem(line, "notes", " ".join(error.messages))
            return None
        return reason

    # --- the cards -------------------------------------------------------------------------------
    def check_cards(self, good: list[Row]) -> list[tuple[Row, Customer]]:
        """Each row against its card (locked when committing): the closure rules and the dates."""
        numbers = sorted({row.number for row in good})
        cards: dict[str, Customer] = {}
        for start in range(0, len(numbers), QUERY_CHUNK):
            cards.update(
                (c.customer_no, c)
                for c in Customer.objects.filter(customer_no__in=numbers[start : start + QUERY_CHUNK])
            )
        ids = [card.pk for card in cards.values()]
        if self.commit:  # read again under the lock, in primary-key order
            cards = {card.customer_no: card for card in rules.lock_cards(ids)}
        pending = rules.pending_requests(ids)
        closures = rules.open_closures([c.pk for c in cards.values() if not c.is_active and not c.is_erased])
        latest = _latest_closures(ids)
        seen: dict[str, int] = {}
        fine = []
        for row in good:
            card = cards.get(row.number)
            if card is None:
                self.problem(
                    row.line,
                    "customer_no",
                    _("No customer has the number %(number)s.") % {"number": row.number},
                    row.number,
                )
                continue
            if row.number in seen:
                message = _("%(number)s is also on line %(line)d; a card can be closed once per file.")
                self.problem(
                    row.line, "customer_no", message % {"number": row.number, "line": seen[row.number]}, row.number
                )
                continue
            seen[row.number] = row.line
            if row.bad:
                continue
            if self.check_card(row, card, pending.get(card.pk), closures.get(card.pk), latest.get(card.pk)):
                fine.append((row, card))
                self.report.by_action[row.action] = self.report.by_action.get(row.action, 0) + 1
        return fine

    def check_card(self, row: Row, card: Customer, pending, closure, latest) -> bool:
        choice = ClosureChoice(
            row.action,
            row.reason,
            notes=row.notes,
            settlement_note=row.settlement_note,
            # A past closure's money was settled outside the app: its note says how.
            settlement=Settlement.FORFEIT if row.settlement_note.strip() else "",
            forfeit_reason=row.settlement_note[:500],
        )
        try:
            rules.check_closing(card, choice, reason=row.reason, pending=pending, survivor=None, closure=closure)
        except ValidationError as error:
            code = getattr(error, "code", None)
            column = RULE_COLUMNS.get(code, "customer_no")
            message = " ".join(error.messages)
            if code == "balance":
                message = _(
                    "The card still has a balance of %(balance)s and %(points)s points: say how they were settled "
                    "in a settlement_note column."
                ) % {"balance": money(card.balance), "points": card.points}
            self.problem(row.line, column, message, row.number if column == "customer_no" else "")
            return False
        day = timezone.localtime(row.moment, timezone.get_default_timezone()).date()
        if day < card.customer_since:
            message = _("%(date)s is before the card's customer since (%(since)s); tenure cannot be negative.")
            self.problem(
                row.line, "closed_at", message % {"date": day.isoformat(), "since": card.customer_since.isoformat()}
            )
            return False
        if latest is not None and latest > row.moment:
            message = _("The card already has a closure or reinstatement on %(date)s, after this date.")
            self.problem(row.line, "closed_at", message % {"date": rules.when(latest)})
            return False
        return True

    # --- writing ---------------------------------------------------------------------------------
    def write(self, checked: list[tuple[Row, Customer]]) -> None:
        """Every closure through closures.writes, the statuses, the audit entries and the batch (in the
        caller's transaction)."""
        report = self.report
        batch = ImportBatch.objects.create(
            kind=ImportBatch.Kind.CLOSURES,
            file_name=report.file_name[:255],
            created_by=self.user,
            rows=report.rows,
            closed_count=len(checked),
        )
        closures, lines = [], {}
        for row, card in checked:
            closure = writes.new_closure(
                card,
                ClosureChoice(row.action, row.reason, notes=row.notes, settlement_note=row.settlement_note),
                by=row.performer or self.user,
                reason=row.reason,
                performed_at=row.moment,
            )
            closure.import_batch = batch
            closure.performed_by_name = row.performer_name
            closures.append(closure)
            lines[card.pk] = row.line
        writes.write_closures(new=closures, announce=False)
        for action, status in ACTION_STATUS.items():
            writes.set_status([card for row, card in checked if row.action == action], status)
        writes.record_imported_closures(
            closures, by=self.user, file_name=report.file_name, lines=lines, request=self.request
        )
        audit.record(
            "closures.import",
            actor=self.user,
            request=self.request,
            obj=batch,
            object_type="importbatch",
            summary=report.file_name,
            changes={"file": [None, report.file_name], "rows": [None, report.rows], "closed": [None, len(closures)]},
            data={"columns": report.columns},
        )
        report.batch_id = batch.pk
        report.written = True


def _latest_closures(ids: list[int]) -> dict[int, object]:
    """The latest moment each card was closed or reinstated (a historical closure must come after it)."""
    latest: dict[int, object] = {}
    for start in range(0, len(ids), QUERY_CHUNK):
        found = (
            Closure.objects.filter(customer_id__in=ids[start : start + QUERY_CHUNK]).order_by().values("customer_id")
        )
        for row in found.annotate(performed=Max("performed_at"), reverted=Max("reverted_at")):
            moments = [m for m in (row["performed"], row["reverted"]) if m is not None]
            latest[row["customer_id"]] = max(moments)
    return latest
