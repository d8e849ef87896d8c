"""Turning rows of cells into clean customer records: the header, every cell, duplicates across rows.

Nothing here touches the database (the owner column is checked for its form here and
resolved to a user by the importer, a chunk at a time), so this part is pure and is
tested cell by cell. (Running it in a thread beside the database work was tried and
measured: with the GIL it saved nothing on 100,000 rows, so it runs inline.)
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from ..columns import (
    ALTERNATIVE_COLUMNS,
    CONSENT_COLUMNS,
    EXAMPLE_CUSTOMER_NO,
    EXPORT_ONLY_ALIASES,
    EXPORT_ONLY_COLUMNS,
    FIELD_OF,
    HEADER_LABELS,
    REQUIRED_COLUMNS,
    TEMPLATE_COLUMNS,
    normalise_key,
)
from ..models import Customer
from ..resources import build_widgets
from .reading import CellError, Formula, ImportFileError, max_rows
from .report import short_value

CHUNK_SIZE = 2000


def _header_aliases() -> dict[str, str]:
    """Normalised header text -> column name: the names, their aliases and the model's labels in both languages."""
    table: dict[str, str] = {}
    for column in TEMPLATE_COLUMNS + ALTERNATIVE_COLUMNS:
        names = [column.name, *column.aliases]
        if column in ALTERNATIVE_COLUMNS + CONSENT_COLUMNS:  # its own names: no card field's label
            for name in names:
                table.setdefault(normalise_key(name), column.name)
            continue
        model_field = Customer._meta.get_field(column.field_name)
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names.append(str(model_field.verbose_name))
        for name in names:
            table.setdefault(normalise_key(name), column.name)
    for name in EXPORT_ONLY_COLUMNS:
        for alias in (name, *EXPORT_ONLY_ALIASES.get(name, ())):
            table.setdefault(normalise_key(alias), f"-{name}")
    for name, label in HEADER_LABELS.items():  # an export's headers, in either language
        for language in ("en", "zh-hans"):
            with translation.override(language):
                key = normalise_key(str(label))
            table.setdefault(key, f"-{name}" if name in EXPORT_ONLY_COLUMNS else name)
    return table


@dataclass(frozen=True)
class ColumnMap:
    """Where each column is. A record's values are keyed by the field a column fills (FIELD_OF:
    tenure_months fills customer_since), so two columns that fill one field are a file error."""

    positions: list[tuple[int, str, str]]  # (index in the row, column name, header as written)
    ignored: list[str]


def map_columns(headers: list, *, generate_numbers: bool = False) -> ColumnMap:
    """Which cell holds which column; missing required, unknown and doubled columns are file errors.

    With ``generate_numbers`` the customer-number column may be left out (every row is then a new
    customer with a generated number)."""
    aliases = _header_aliases()
    positions: list[tuple[int, str, str]] = []
    seen: dict[str, str] = {}
    unknown, ignored, errors = [], [], []
    for index, raw in enumerate(headers):
        header = "" if raw is None else str(raw).replace("\ufeff", "").strip()
        if not header:
            continue
        name = aliases.get(normalise_key(header))
        if name is None:
            unknown.append(header)
        elif name.startswith("-"):
            ignored.append(header)
        elif FIELD_OF[name] in seen:
            errors.append(
                _("The columns “%(first)s” and “%(second)s” both mean %(name)s; keep only one.")
                % {"first": seen[FIELD_OF[name]], "second": header, "name": FIELD_OF[name]}
            )
        else:
            seen[FIELD_OF[name]] = header
            positions.append((index, name, header))
    missing = [name for name in required_columns(generate_numbers) if name not in seen]
    if missing:
        errors.insert(
            0,
            _("The file has no %(columns)s column. The first row must hold the column names; the template shows them.")
            % {"columns": _(" and ").join(missing)},
        )
    if unknown:
        errors.append(
            _(
                "These columns are not recognised: %(columns)s. "
                "The accepted columns are %(accepted)s (or their Chinese names)."
            )
            % {
                "columns": ", ".join(f"“{h[:40]}”" for h in unknown[:10]),
                "accepted": ", ".join(c.name for c in TEMPLATE_COLUMNS + ALTERNATIVE_COLUMNS),
            }
        )
    if errors:
        raise ImportFileError(*errors)
    return ColumnMap(positions, ignored)


@dataclass
class Chunk:
    """Up to CHUNK_SIZE clean records (line, values) and the problems of the rows read with them."""

    records: list[tuple[int, dict]]
    problems: list[tuple[int, str, str, object]]
    rows: int  # data rows read so far, blank rows excluded


def required_columns(generate_numbers: bool) -> tuple[str, ...]:
    return tuple(name for name in REQUIRED_COLUMNS if not (generate_numbers and name == "customer_no"))


def blank_row(values: list) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


class RowCleaner:
    """Cleans one row's cells with the resource's widgets and checks what spans rows (duplicates)."""

    def __init__(self, columns: ColumnMap, *, generate_numbers: bool = False):
        widgets = build_widgets()
        self.required = required_columns(generate_numbers)
        self.owners = widgets["owner"]
        # (index, the field the column fills, header, widget)
        self.cells = [(index, FIELD_OF[name], header, widgets[name]) for index, name, header in columns.positions]
        self.headers = {FIELD_OF[name]: header for _index, name, header in columns.positions}
        self.seen_numbers: dict[str, int] = {}
        self.seen_phones: dict[str, int] = {}

    def clean(self, line: int, values: list, problems: list) -> dict:
        """The row's good values by field name; its problems are appended to ``problems``.

        Every cell is checked, and every rule across rows, whatever else is wrong with the row, so
        one pass reports all of a file's problems; a row with a problem still goes on to the checks
        against the database (the importer's), which report theirs too, and is never written."""
        record: dict = {}
        failed: list[str] = []
        width = len(values)
        for index, name, header, widget in self.cells:
            raw = values[index] if index < width else None
            if raw is None or raw == "":
                continue
            kind = type(raw)
            if kind is Formula:
                message = _(
                    "The cell holds a formula (%(formula)s); formulas are not imported. "
                    "Copy the column and paste it as values."
                ) % {"formula": short_value(raw)}
            elif kind is CellError:
                message = _("The cell shows an Excel error (%(error)s).") % {"error": raw}
            else:
                try:
                    # The owner is looked up by the importer, in its transaction; here only its form.
                    value = self.owners.clean_username(raw) if widget is self.owners else widget.clean(raw)
                except (ValueError, ValidationError) as error:
                    message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
                else:
                    if value is not None:
                        record[name] = value
                    continue
            problems.append((line, header, message, raw))
            failed.append(name)
        for name in self.required:
            if name not in record and name not in failed:
                problems.append((line, self.headers[name], _required_message(name), ""))
        self._duplicate(line, record, problems)
        return record

    def _duplicate(self, line: int, record: dict, problems: list) -> None:
        """The template's example row, or a customer number or phone already seen higher up."""
        number = record.get("customer_no")
        if number == EXAMPLE_CUSTOMER_NO:
            message = _("This is the template's example row; delete it before importing.")
            problems.append((line, self.headers["customer_no"], message, number))
        elif number is not None and number in self.seen_numbers:
            message = _("%(number)s is also on line %(line)d; each customer number may appear once.") % {
                "number": number,
                "line": self.seen_numbers[number],
            }
            problems.append((line, self.headers["customer_no"], message, number))
        elif number is not None:
            self.seen_numbers[number] = line
        phone = record.get("phone")
        if phone is not None and phone in self.seen_phones:
            message = _("%(phone)s is also on line %(line)d; two customers cannot share a mobile number.") % {
                "phone": phone,
                "line": self.seen_phones[phone],
            }
            problems.append((line, self.headers["phone"], message, phone))
        elif phone is not None:
            self.seen_phones[phone] = line


def cleaned(rows: Iterator[tuple[int, list]], *, generate_numbers: bool = False) -> Iterator[ColumnMap | Chunk]:
    """The file's columns (first), then its rows cleaned, a chunk at a time. No database access.

    Every row's record is in its chunk, those with problems too (the problems name their lines)."""
    columns = cleaner = None
    limit = max_rows()
    physical_limit = 2 * limit + 10_000
    physical = count = 0
    records: list[tuple[int, dict]] = []
    problems: list[tuple[int, str, str, object]] = []
    for line, values in rows:
        physical += 1
        if physical > physical_limit:
            raise ImportFileError(_row_cap_message(limit))
        if blank_row(values):
            continue
        if columns is None:
            columns = map_columns(values, generate_numbers=generate_numbers)
            cleaner = RowCleaner(columns, generate_numbers=generate_numbers)
            yield columns
            continue
        count += 1
        if count > limit:
            raise ImportFileError(_row_cap_message(limit))
        records.append((line, cleaner.clean(line, values, problems)))
        if count % CHUNK_SIZE == 0:
            yield Chunk(records, problems, count)
            records, problems = [], []
    if columns is None:
        raise ImportFileError(_("The file is empty."))
    if count == 0:
        raise ImportFileError(_("The file has a header row but no customers."))
    if records or problems or count % CHUNK_SIZE:
        yield Chunk(records, problems, count)


def _required_message(name: str) -> str:
    if name == "customer_no":
        return _(
            "This column is required; the cell is empty. To give new customers generated numbers, "
            "tick “Generate customer numbers” when uploading the file."
        )
    return _("This column is required; the cell is empty.")


def _row_cap_message(limit: int) -> str:
    return _("The file has more than %(limit)s customers; split it into files of at most that many rows.") % {
        "limit": f"{limit:,}"
    }
