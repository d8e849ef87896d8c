"""The import of historical tickets with their steps: check every row, then write them all, or none.

    import_tickets(rows, file_name, *, user, commit, request=None) -> TicketReport
    preview_upload(upload, *, user) / confirm_upload(upload, *, user, request=None)

The same experience as the customer import and the import of past closures, whose machinery it
reuses (customers.imports: safe readers for .xlsx and CSV, the stored upload between preview and
confirmation, the report with every problem's line and column, the copy with problems marked).
Without ``commit`` it is the preview; with ``commit`` the whole file is checked again inside one
transaction, the cards locked (as open_ticket locks its card, so a closure being confirmed sees
them), and written only if no row has a problem.

What is written is what the ticket operations would have left: the ticket with the SLA targets of
the policy that applies now (service/sla.py; the file cannot know the old policies), its due times
counted in working time from when it opened (service/calendar.py), and breach flags from the
given times; a status step saying where it came from, then the file's steps. History is not news:
no outbox events; the service summary is told of each ticket (service/tally.py); one audit entry
per ticket (``ticket.import``) on its card names the file and the line. A given S-number is kept
when no ticket has it, and the year's counter moves past it so a new ticket never takes it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit
from customers.imports import ImportFileError, ImportReport, StoredUpload, read_rows
from customers.imports.headers import data_rows
from customers.imports.limits import megabytes
from customers.imports.reading import CellError, Formula
from customers.imports.report import short_value
from customers.imports.uploads import keep_problems
from customers.models import Customer
from customers.numbers import clean_customer_no

from . import churn_flag, sla, tally
from .calendar import current
from .import_cells import Lookups, minutes_of, moment_of, text
from .import_columns import COLUMNS, STEP_COLUMNS, map_columns
from .models import OPEN_STATUSES, Channel, Priority, Status, Step, Ticket, TicketNumber
from .operations import CLOSED_CARD_STATUSES, next_number

logger = logging.getLogger(__name__)
PERMISSION = "service.import_tickets"
NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/]{0,19}")
S_NUMBER = re.compile(r"S(\d{4})-(\d{1,9})")
DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_BYTES = 1024 * 1024


def max_rows() -> int:
    from django.conf import settings

    return getattr(settings, "TICKET_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)


def max_bytes() -> int:
    from django.conf import settings

    from customers.imports import max_bytes as upload_max_bytes

    return min(upload_max_bytes(), getattr(settings, "IMPORT_DIRECT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class TicketReport(ImportReport):
    tickets: int = 0
    steps: int = 0


@dataclass
class Row:
    line: int
    values: dict
    steps: list = field(default_factory=list)  # (line, values)


def import_tickets(rows: Callable[[], Iterator], file_name: str, *, user, commit: bool, request=None) -> TicketReport:
    """Check every row and, when ``commit`` is set and nothing is wrong, write every ticket (all or nothing)."""
    report = TicketReport(file_name=file_name)
    try:
        if not user.has_perm(PERMISSION):
            raise ValidationError(_("Only an Admin can import historical tickets."))
        with transaction.atomic():
            _Import(report, user, commit=commit, request=request).run(rows())
            if not (commit and report.ok):
                transaction.set_rollback(True)
    except ImportFileError as error:
        report.file_errors = error.messages
    except ValidationError as error:
        report.file_errors = list(error.messages)
    except IntegrityError:
        logger.warning("ticket import hit a conflicting change", exc_info=True)
        report.file_errors = [
            _("Someone added tickets with the same numbers meanwhile; nothing was written. Try again.")
        ]
    except DatabaseError:
        logger.exception("ticket import failed in the database")
        report.file_errors = [_("The database refused the import; nothing was written. Try again later.")]
    report.written = bool(commit and report.ok and not report.file_errors)
    return report


class _Import:
    def __init__(self, report: TicketReport, user, *, commit: bool, request=None):
        self.report, self.user, self.commit, self.request = report, user, commit, request
        self.headers: dict[str, str] = {}
        self.lookups = Lookups()

    def problem(self, line: int, name: str, message, value="") -> None:
        self.report.add_problem(line, self.headers.get(name, name), str(message), value)

    def run(self, rows: Iterator[tuple[int, list]]) -> None:
        tickets = self.read(rows)
        cards = self.check_cards(tickets)
        self.check_numbers(tickets)
        self.report.problems.sort(key=lambda problem: problem.line)
        self.report.tickets = len(tickets)
        self.report.steps = sum(len(row.steps) for row in tickets)
        if self.commit and self.report.ok:
            self.write(tickets, cards)

    # --- Reading and checking cells ----------------------------------------------------------------
    def read(self, rows) -> list[Row]:
        tickets, numbered, last = [], {}, None
        too_many = _("The file has more than %(max)s rows; split it.")
        for line, raw in data_rows(rows, map_columns, self, limit=max_rows(), too_many=too_many):
            values = self.cells(line, raw)
            if values is None:
                continue
            if values.get("kind"):
                self.attach_step(line, values, numbered, last)
                continue
            last = Row(line, self.ticket_values(line, values))
            tickets.append(last)
            number = last.values.get("number")
            if number:
                if number in numbered:
                    self.problem(
                        line,
                        "number",
                        _("Ticket %(number)s is also on line %(line)d.")
                        % {"number": number, "line": numbered[number].line},
                        number,
                    )
                else:
                    numbered[number] = last
        return tickets

    def cells(self, line: int, raw: dict) -> dict | None:
        """The row's non-empty cells read into domain values; a bad cell is a problem (None when the row is lost)."""
        readers = {
            "customer_no": lambda v: clean_customer_no(text(v)),
            "channel": self.lookups.channel,
            "category": self.lookups.category,
            "priority": self.lookups.priority,
            "team": self.lookups.team,
            "assignee": self.lookups.user,
            "status": self.lookups.status,
            "opened_at": moment_of,
            "first_response_at": moment_of,
            "resolved_at": moment_of,
            "closed_at": moment_of,
            "kind": self.lookups.kind,
            "when": moment_of,
            "minutes": minutes_of,
        }
        values, bad = {}, set()
        for name, value in raw.items():
            if isinstance(value, Formula | CellError):
                self.problem(
                    line,
                    name,
                    _("The cell holds a formula or an error (%(value)s); paste values.")
                    % {"value": short_value(value)},
                    value,
                )
                bad.add(name)
                continue
            if text(value) == "":
                continue
            try:
                values[name] = readers[name](value) if name in readers else text(value)
            except (ValueError, ValidationError) as error:
                message = error.messages[0] if isinstance(error, ValidationError) else str(error)
                self.problem(line, name, message, value)
                bad.add(name)
        if "kind" in raw and text(raw["kind"]) and "kind" not in values:
            return None  # neither a ticket nor a step we can read
        values["_bad"] = bad
        return values

    def ticket_values(self, line: int, values: dict) -> dict:
        for name in ("customer_no", "category", "subject", "opened_at"):
            if name not in values and name not in values["_bad"]:
                self.problem(line, name, _("This column is required; the cell is empty."))
        if len(values.get("subject", "")) > 200:
            self.problem(line, "subject", _("A subject has at most 200 characters."))
        number = values.get("number", "")
        if number and not NUMBER.fullmatch(number):
            self.problem(line, "number", _("A ticket number has letters, digits and dashes, up to 20."), number)
        opened = values.get("opened_at")
        for name in ("first_response_at", "resolved_at", "closed_at"):
            if opened and values.get(name) and values[name] < opened:
                self.problem(line, name, _("This is before the ticket was opened."), values[name])
        self.derive_status(line, values)
        assignee, team = values.get("assignee"), values.get("team")
        if assignee and not team:
            values["team"] = assignee.teams.filter(active=True).first()
        return values

    def derive_status(self, line: int, values: dict) -> None:
        status = values.get("status")
        if status is None:
            status = (
                Status.CLOSED
                if values.get("closed_at")
                else Status.RESOLVED
                if values.get("resolved_at")
                else Status.ASSIGNED
                if values.get("assignee")
                else Status.NEW
            )
        values["status"] = status
        if status in (Status.RESOLVED, Status.CLOSED) and not (values.get("resolved_at") or values.get("closed_at")):
            self.problem(line, "resolved_at", _("A resolved or closed ticket needs the time it was resolved."))
        if status == Status.CLOSED and not values.get("closed_at"):
            self.problem(line, "closed_at", _("A closed ticket needs the time it was closed."))
        if status in OPEN_STATUSES and (values.get("resolved_at") or values.get("closed_at")):
            self.problem(line, "status", _("An open ticket cannot have been resolved or closed; check the status."))

    def attach_step(self, line: int, values: dict, numbered: dict, last: Row | None) -> None:
        number = values.get("number")
        ticket = numbered.get(number) if number else last
        if ticket is None:
            message = (
                _("No ticket row numbered %(number)s comes before this step.") % {"number": number}
                if number
                else _("This step has no ticket: give its number, or put it under its ticket's row.")
            )
            self.problem(line, "number", message, number or "")
            return
        if not values.get("content"):
            self.problem(line, "content", _("Say what was done or said in the step."))
        if "when" not in values and "when" not in values["_bad"]:
            self.problem(line, "when", _("This column is required; the cell is empty."))
        opened = ticket.values.get("opened_at")
        if opened and values.get("when") and values["when"] < opened:
            self.problem(line, "when", _("This is before the ticket was opened."), values["when"])
        ticket.steps.append((line, values))

    # --- Checking against the database -------------------------------------------------------------
    def check_cards(self, tickets: list[Row]) -> dict[str, Customer]:
        wanted = {row.values["customer_no"] for row in tickets if row.values.get("customer_no")}
        found = {}
        ordered = sorted(wanted)
        for start in range(0, len(ordered), 2000):
            chunk = Customer.objects.filter(customer_no__in=ordered[start : start + 2000])
            found.update({c.customer_no: c for c in chunk.only("pk", "customer_no", "status")})
        if self.commit and found:
            Customer.objects.lock_ids([c.pk for c in found.values()])
        for row in tickets:
            number = row.values.get("customer_no")
            card = found.get(number) if number else None
            if number and card is None:
                self.problem(row.line, "customer_no", _("There is no card %(number)s.") % {"number": number}, number)
            elif card is not None and card.status in CLOSED_CARD_STATUSES:
                self.problem(
                    row.line,
                    "customer_no",
                    _("Card %(number)s is %(status)s; tickets go on a valid card.")
                    % {"number": number, "status": card.get_status_display().lower()},
                    number,
                )
        return found

    def check_numbers(self, tickets: list[Row]) -> None:
        given = [row for row in tickets if row.values.get("number")]
        taken = set(
            Ticket.objects.filter(number__in=[r.values["number"] for r in given]).values_list("number", flat=True)
        )
        for row in given:
            if row.values["number"] in taken:
                self.problem(
                    row.line,
                    "number",
                    _("Ticket %(number)s already exists.") % {"number": row.values["number"]},
                    row.values["number"],
                )

    # --- Writing ------------------------------------------------------------------------------------
    def write(self, tickets: list[Row], cards: dict[str, Customer]) -> None:
        calendar, policies = current(), {}
        made, steps = [], []
        self.bump_counters(tickets)
        for row in tickets:
            ticket = self.ticket(row, cards[row.values["customer_no"]], calendar, policies)
            made.append(ticket)
        Ticket.objects.bulk_create(made, batch_size=1000)
        churn_flag.refresh(ticket.customer_id for ticket in made)  # past tickets may precede a closure
        for row, ticket in zip(tickets, made, strict=True):
            steps += self.steps(row, ticket)
            tally.changed(None, ticket)
        Step.objects.bulk_create(steps, batch_size=1000)
        audit.record_many(
            [
                {
                    "action": "ticket.import",
                    "object_type": "ticket",
                    "object_id": ticket.pk,
                    "customer_id": ticket.customer_id,
                    "summary": f"{ticket.number} {ticket.subject}",
                    "data": {
                        "ticket": ticket.pk,
                        "number": ticket.number,
                        "file": self.report.file_name,
                        "line": row.line,
                        "steps": len(row.steps),
                    },
                }
                for row, ticket in zip(tickets, made, strict=True)
            ],
            actor=self.user,
            request=self.request,
        )

    def bump_counters(self, tickets: list[Row]) -> None:
        """A kept S-number moves its year's counter past it, so a new ticket never takes it."""
        highest: dict[int, int] = {}
        for row in tickets:
            found = S_NUMBER.fullmatch(row.values.get("number") or "")
            if found:
                year, n = int(found.group(1)), int(found.group(2))
                highest[year] = max(highest.get(year, 0), n)
        for year, n in highest.items():
            TicketNumber.objects.bulk_create([TicketNumber(year=year)], ignore_conflicts=True)
            TicketNumber.objects.select_for_update().filter(year=year, last__lt=n).update(last=n)

    def ticket(self, row: Row, card: Customer, calendar, policies: dict) -> Ticket:
        v = row.values
        opened = v["opened_at"]
        status = v["status"]
        ticket = Ticket(
            number=v.get("number") or next_number(timezone.localtime(opened).year),
            customer=card,
            channel=v.get("channel", Channel.PHONE),
            category=v["category"],
            priority=v.get("priority", Priority.NORMAL),
            subject=v["subject"],
            need=v.get("need", ""),
            team=v.get("team"),
            assignee=v.get("assignee"),
            status=status,
            created_by=self.user,
            created_at=opened,
            updated_at=timezone.now(),
        )
        key = (ticket.priority, ticket.category.pk)
        if key not in policies:
            policies[key] = sla.policy_for(*key)
        sla.apply_policy(ticket, calendar, policies[key])
        replies = [s["when"] for _line, s in row.steps if s.get("kind") == Step.Kind.REPLY and s.get("when")]
        first = v.get("first_response_at") or (min(replies) if replies else None)
        resolved = v.get("resolved_at") or (v.get("closed_at") if status in (Status.RESOLVED, Status.CLOSED) else None)
        if first is None and resolved is not None and status != Status.CANCELLED:
            first = resolved
        if first is not None:
            sla.responded(ticket, first)
        if resolved is not None and status != Status.CANCELLED:
            ticket.resolved_at = resolved
            ticket.resolution_breached = bool(ticket.resolution_due and resolved > ticket.resolution_due)
        ticket.closed_at = v.get("closed_at") if status in (Status.CLOSED, Status.CANCELLED) else None
        return ticket

    def steps(self, row: Row, ticket: Ticket) -> list[Step]:
        made = [
            Step(
                ticket=ticket,
                kind=Step.Kind.STATUS,
                by=self.user,
                new_status=ticket.status,
                happened_at=ticket.created_at,
                content=_("Imported from %(file)s, line %(line)d.") % {"file": self.report.file_name, "line": row.line},
            )
        ]
        for _line, values in row.steps:
            by = values.get("by")
            content = values.get("content", "")
            found = self.lookups.users.get(_key(by)) if by else None
            if by and found is None:
                content = f"{content} ({by})"
            made.append(
                Step(
                    ticket=ticket,
                    kind=values["kind"],
                    content=content,
                    result=values.get("result", "")[:300],
                    by=found,
                    happened_at=values["when"],
                    minutes_spent=values.get("minutes"),
                    to_customer=values["kind"] == Step.Kind.REPLY,
                )
            )
        return made


def _key(value) -> str:
    from customers.columns import normalise_key

    return normalise_key(text(value))


# --- The stored upload's preview and confirmation (customers.imports' machinery) -----------------------


def too_large_message() -> str:
    return _("The file is larger than %(limit)s; split it into files of up to %(rows)s rows.") % {
        "limit": megabytes(max_bytes()),
        "rows": f"{max_rows():,}",
    }


def preview_upload(upload: StoredUpload, *, user) -> TicketReport:
    """The dry run of a stored upload: every problem (kept beside the upload), nothing written."""
    if upload.size > max_bytes():
        return TicketReport(file_name=upload.file_name, file_errors=[too_large_message()])
    with upload.open() as handle:
        report = import_tickets(lambda: read_rows(handle, upload.file_name), upload.file_name, user=user, commit=False)
    keep_problems(upload, report)
    return report


def confirm_upload(upload: StoredUpload, *, user, request=None) -> TicketReport:
    """Import a stored upload for real: every row checked again, then everything in one transaction, or nothing."""
    if upload.size > max_bytes():
        return TicketReport(file_name=upload.file_name, file_errors=[too_large_message()])
    with upload.open() as handle:
        return import_tickets(
            lambda: read_rows(handle, upload.file_name), upload.file_name, user=user, commit=True, request=request
        )


__all__ = ["COLUMNS", "STEP_COLUMNS", "TicketReport", "confirm_upload", "import_tickets", "preview_upload"]
