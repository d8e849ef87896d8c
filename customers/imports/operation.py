"""The import itself: check every clean record against the database, then write all or nothing.

See the package docstring (customers/imports/__init__.py) for why rows are not fed through
``CustomerResource.import_data`` and how the work is split into chunks.
"""

import logging
from collections.abc import Callable, Iterator

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _

from crm import audit

from .. import batch, consent, gate, numbers, places, since
from ..columns import CONSENT_OF, FIELD_OF
from ..models import ContactConsent, Customer, ImportBatch, Tag
from ..resources import OwnerWidget, build_widgets
from .cleaning import CHUNK_SIZE, Chunk, ColumnMap, blank_row, cleaned, map_columns
from .reading import ImportFileError, read_rows
from .report import ImportReport

logger = logging.getLogger(__name__)
Progress = Callable[[int], None]


class _Importer:
    """Checks clean records against the database a chunk at a time and, when committing, writes them."""

    def __init__(
        self,
        report: ImportReport,
        columns: ColumnMap,
        *,
        commit: bool,
        user=None,
        request=None,
        batch_id=None,
        reserved: frozenset[str] = frozenset(),
    ):
        self.report = report
        self.reserved = reserved  # the file's own customer numbers: never generated for another row
        self.batch_id = batch_id  # the ImportBatch the created cards join (committing only)
        self.commit = commit
        self.user = user
        self.request = request
        self.owners = OwnerWidget()  # usernames -> users, cached
        self.headers = {FIELD_OF[name]: header for _index, name, header in columns.positions}
        self.present = set(self.headers)
        # Model fields read from the database to compare (owner as its id, tags separately).
        self.compare_fields = [
            "owner_id" if name == "owner" else name
            for name in self.present
            if name not in ("customer_no", "tags") and name not in CONSENT_OF
        ]
        self.consent_columns = [name for name in CONSENT_OF if name in self.present]
        self.tag_ids: dict[str, int] = {}

    def _resolve_owners(self, chunk: list[tuple[int, dict]]) -> None:
        """Usernames to user ids, in one query per chunk; an unknown user is a problem of the row."""
        if "owner" not in self.present:
            return
        self.owners.prime({record["owner"] for _line, record in chunk if "owner" in record})
        for line, record in chunk:
            if "owner" in record:
                try:
                    record["owner"] = self.owners.clean(record["owner"])
                except ValueError as error:
                    self.report.add_problem(line, self.headers["owner"], str(error), record.pop("owner"))

    def flush(self, chunk: list[tuple[int, dict]]) -> None:
        """Check a chunk's records against the database and, when committing, write them.

        Rows that already have a problem (report.bad_lines) are checked too, so the file's every
        problem is found in one pass, but are neither counted nor written."""
        if not chunk:
            return
        self._resolve_owners(chunk)
        report = self.report
        numbers = [record["customer_no"] for _line, record in chunk if record.get("customer_no")]
        existing, old_tags = self._existing(numbers)
        old_consents = self._consents(existing)
        self._warn_shared_phones(chunk, numbers)

        creates: list[batch.NewCard] = []
        updates: list[batch.CardUpdate] = []
        self.consent_changes: list[batch.ConsentChange] = []
        for line, record in chunk:
            bad = line in report.bad_lines
            row = existing.get(record["customer_no"]) if record.get("customer_no") else None
            tags = record.pop("tags", None)
            owner = record.pop("owner", None)
            wanted = self._wanted_consent(record)
            if owner is not None:
                record["owner_id"] = owner.pk
            if row is None:
                if not bad:
                    creates.append(batch.NewCard(line, record, tags))
                    self._consent_change(line, consent.import_changes(None, wanted), {}, card=creates[-1])
                continue
            changes = {name: value for name, value in record.items() if name != "customer_no" and row[name] != value}
            before = old_tags.get(row["id"], set())
            tags_changed = tags is not None and set(tags) != before
            consents = old_consents.get(row["id"], {})
            consent_changes = consent.import_changes(consents, wanted)
            refusal = gate.status_refusal(row["status"], row["customer_no"])
            if refusal and (changes or tags_changed or not consent_changes or row["status"] == Customer.Status.ERASED):
                if row["status"] != Customer.Status.ERASED:
                    refusal = _("%(refusal)s Or remove the row.") % {"refusal": refusal}
                report.add_problem(line, self.headers["customer_no"], refusal, record["customer_no"])
                continue
            # A closed card's customer may still change their consent (customers.consent): only that.
            self._consent_change(line, consent_changes, consents, customer_id=row["id"], number=row["customer_no"])
            if not changes and not tags_changed:
                if consent_changes:
                    report.updated += 0 if bad else 1
                else:
                    report.unchanged += 0 if bad else 1
                continue
            old = {name: row[name] for name in changes}
            old["customer_no"] = row["customer_no"]
            if tags_changed:
                updates.append(batch.CardUpdate(line, row["id"], old, changes, sorted(before), tags))
            else:
                updates.append(batch.CardUpdate(line, row["id"], old, changes))
        updates = [update for update in self._since_allowed(updates) if update.line not in report.bad_lines]
        creates = [card for card in creates if card.line not in report.bad_lines]  # a later check's problem
        report.generated += sum(1 for card in creates if not card.values.get("customer_no"))
        report.created += len(creates)
        report.updated += len(updates)
        self._note_new_tags(card.tags for card in creates)
        self._note_new_tags(update.tags for update in updates)
        self.consent_changes = [row for row in self.consent_changes if row.line not in report.bad_lines]
        if self.commit and not report.problem_count:
            self._write(creates, updates)

    def _wanted_consent(self, record: dict) -> dict[str, dict]:
        """The row's consent columns, taken out of the card's values: ``{channel: {field: bool}}``."""
        wanted: dict[str, dict] = {}
        for name in self.consent_columns:
            if name not in record:
                continue
            value = record.pop(name)
            channel, field_name = CONSENT_OF[name]
            for each in [channel] if channel else ContactConsent.Channel.values:
                wanted.setdefault(each, {})[field_name] = value
        return wanted

    def _consent_change(self, line: int, changes: dict, existing: dict, **where) -> None:
        if changes:
            self.consent_changes.append(batch.ConsentChange(line, changes, existing, **where))

    def _consents(self, existing: dict[str, dict]) -> dict[int, dict[str, ContactConsent]]:
        """The consent rows of the chunk's existing cards, in one query (only when the file has consent)."""
        found: dict[int, dict[str, ContactConsent]] = {}
        if self.consent_columns and existing:
            rows = ContactConsent.objects.filter(customer_id__in=[row["id"] for row in existing.values()])
            for row in rows:
                found.setdefault(row.customer_id, {})[row.channel] = row
        return found

    def _since_allowed(self, updates: list[batch.CardUpdate]) -> list[batch.CardUpdate]:
        """The updates whose new "customer since" is not after their card's first closure (the card
        gate's rule, customers.since); the others are problems of their line, in one query a chunk."""
        moved = [update for update in updates if "customer_since" in update.changes]
        first_closed = since.first_closed_on(update.customer_id for update in moved)
        kept = []
        for update in updates:
            day = update.changes.get("customer_since")
            problem = since.closure_problem(day, first_closed.get(update.customer_id)) if day else ""
            if problem:
                self.report.add_problem(update.line, self.headers["customer_since"], problem, day.isoformat())
            else:
                kept.append(update)
        return kept

    def _existing(self, numbers: list[str]) -> tuple[dict[str, dict], dict[int, set[str]]]:
        """The chunk's customers already in the database (locked when committing) and their tags."""
        rows = Customer.objects.filter(customer_no__in=numbers)
        if self.commit:  # locked already (lock_existing_cards); any created meanwhile, in pk order too
            rows = rows.select_for_update().order_by("pk")
        existing = {row["customer_no"]: row for row in rows.values("id", "customer_no", "status", *self.compare_fields)}
        tags: dict[int, set[str]] = {}
        if "tags" in self.present and existing:
            links = Customer.tags.through.objects.filter(customer_id__in=[row["id"] for row in existing.values()])
            for customer_id, name in links.values_list("customer_id", "tag__name"):
                tags.setdefault(customer_id, set()).add(name)
        return existing, tags

    def _warn_shared_phones(self, chunk, numbers) -> None:
        if "phone" not in self.present:
            return
        lines = {record["phone"]: line for line, record in chunk if record.get("phone")}
        if not lines:
            return
        others = (
            Customer.objects.filter(phone__in=list(lines))
            .exclude(customer_no__in=numbers)
            .values_list("phone", "customer_no")
        )
        for phone, number in others:
            self.report.add_warning(
                lines[phone],
                self.headers["phone"],
                _("%(phone)s already belongs to customer %(number)s; check that this is not a duplicate.")
                % {"phone": phone, "number": number},
                phone,
            )

    def _note_new_tags(self, tag_lists) -> None:
        names = {name for tags in tag_lists if tags for name in tags} - set(self.tag_ids)
        if not names:
            return
        for tag_id, name in Tag.objects.filter(name__in=names).values_list("id", "name"):
            self.tag_ids[name] = tag_id
        self.report.new_tags |= names - set(self.tag_ids)

    def _write(self, creates: list[batch.NewCard], updates: list[batch.CardUpdate]) -> None:
        """Write one checked chunk through the card gate (inside the import's transaction)."""
        if self.report.new_tags - set(self.tag_ids):
            missing = sorted(self.report.new_tags - set(self.tag_ids))
            Tag.objects.bulk_create([Tag(name=name) for name in missing], ignore_conflicts=True)
            self.tag_ids.update(dict(Tag.objects.filter(name__in=missing).values_list("name", "id")))
        blank = [card for card in creates if not card.values.get("customer_no")]
        if blank:
            generated = numbers.next_customer_nos(len(blank), reserved=self.reserved)
            for card, number in zip(blank, generated, strict=True):
                card.values["customer_no"] = number
            self.report.note_generated(generated)
        batch.write_import_chunk(
            creates,
            updates,
            by=self.user,
            file_name=self.report.file_name,
            tag_ids=self.tag_ids,
            request=self.request,
            batch_id=self.batch_id,
        )
        batch.write_import_consents(
            self.consent_changes,
            by=self.user,
            file_name=self.report.file_name,
            batch_id=self.batch_id,
            request=self.request,
        )


def lock_existing_cards(rows: Iterator[tuple[int, list]], *, generate_numbers: bool = False) -> frozenset[str]:
    """Lock every existing card the file names, in primary-key order, before the import touches any.

    Bulk closing locks its cards in primary-key order too (closures.rules), so an import and a
    bulk closure of overlapping cards wait for each other instead of deadlocking, whichever
    starts first. Reads only the customer-number column, through its widget; bad rows are
    skipped here (the import proper reports them). Returns the file's customer numbers (the
    numbers generated for its rows without one must not be among them).
    """
    widget = build_widgets()["customer_no"]
    position = None
    numbers: set[str] = set()
    for _line, values in rows:
        if blank_row(values):
            continue
        if position is None:
            try:
                columns = map_columns(values, generate_numbers=generate_numbers)
            except ImportFileError:
                return frozenset()
            position = next((index for index, name, _header in columns.positions if name == "customer_no"), None)
            if position is None:  # no customer-number column: every row is a new card
                return frozenset()
            continue
        try:
            number = widget.clean(values[position] if position < len(values) else None)
        except (ValueError, ValidationError):
            continue
        if number:
            numbers.add(number)
    ordered = sorted(numbers)
    ids: list[int] = []
    for start in range(0, len(ordered), CHUNK_SIZE):
        ids += Customer.objects.filter(customer_no__in=ordered[start : start + CHUNK_SIZE]).values_list("pk", flat=True)
    Customer.objects.lock_ids(ids)
    return frozenset(numbers)


def import_customers(
    fileobj, file_name: str, *, user, commit: bool, request=None, generate_numbers: bool = False
) -> ImportReport:
    """Validate every row of the file and, when ``commit`` is set and nothing is wrong, write them all.

    Returns the report either way. With ``commit`` everything happens in one transaction
    that is rolled back if any row is bad, a database check fails or the file turns out to
    be unreadable half way: a customer file is imported completely or not at all.
    """
    return run_import(
        lambda: read_rows(fileobj, file_name),
        file_name,
        user=user,
        commit=commit,
        request=request,
        generate_numbers=generate_numbers,
    )


def run_import(
    rows,
    file_name: str,
    *,
    user,
    commit: bool,
    request=None,
    upload_id: str = "",
    progress: Progress | None = None,
    generate_numbers: bool = False,
) -> ImportReport:
    """``rows`` is called (inside the transaction) for the (line, values) rows to import; when
    committing it is called twice (first to lock the existing cards in primary-key order).

    ``progress(rows_done)`` is called every CHUNK_SIZE rows (a job's progress bar). With
    ``generate_numbers`` a row without a customer number is a new card with a generated number
    (customers.numbers.next_customer_nos); without it such a row is a problem.
    """
    report = ImportReport(file_name=file_name, generate_numbers=generate_numbers)
    options = {"progress": progress, "generate_numbers": generate_numbers}
    try:
        if commit:
            with transaction.atomic():
                reserved = lock_existing_cards(rows(), generate_numbers=generate_numbers)
                import_batch = _new_batch(file_name, user)
                batch_id = import_batch.pk if import_batch else None
                importer = {"user": user, "request": request, "batch_id": batch_id, "reserved": reserved}
                _run(report, rows(), commit=True, importer=importer, **options)
                if report.ok:
                    _close_batch(import_batch, report)
                    _audit(report, user=user, request=request, upload_id=upload_id)
                    places.forget()
                    report.written = True
                else:
                    transaction.set_rollback(True)
        else:
            _run(report, rows(), commit=False, **options)
    except ImportFileError as error:
        report.file_errors = error.messages
    except IntegrityError:
        logger.warning("customer import hit a conflicting change", exc_info=True)
        report.file_errors = [
            _("Someone changed the same customers while the file was being imported; nothing was written. Try again.")
        ]
    except DatabaseError:
        logger.exception("customer import failed in the database")
        report.file_errors = [_("The database refused the import; nothing was written. Try again later.")]
    if report.file_errors or not report.ok:
        report.written = False
        report.generated_numbers = []
    return report


def _new_batch(file_name: str, user) -> ImportBatch | None:
    """The import's batch, made first so the cards it creates can name it; rolled back with a failed import."""
    if user is None:  # a data migration's import: no one to name
        return None
    return ImportBatch.objects.create(kind=ImportBatch.Kind.CUSTOMERS, file_name=file_name[:255], created_by=user)


def _close_batch(import_batch: ImportBatch | None, report: ImportReport) -> None:
    """The batch's exact counts, once every row is written."""
    if import_batch is None:
        return
    import_batch.rows = report.rows
    import_batch.created_count, import_batch.updated_count = report.created, report.updated
    import_batch.save(update_fields=["rows", "created_count", "updated_count"])
    report.batch_id = import_batch.pk


def _run(
    report: ImportReport,
    rows: Iterator[tuple[int, list]],
    *,
    commit: bool,
    progress=None,
    generate_numbers: bool = False,
    importer: dict | None = None,
) -> None:
    """Clean records (cleaning.py) are checked and written a chunk at a time.

    ``importer`` holds the committing importer's user, request, batch_id and reserved numbers."""
    checker = None
    for item in cleaned(rows, generate_numbers=generate_numbers):
        if isinstance(item, ColumnMap):
            report.columns = [name for _index, name, _header in item.positions]
            report.ignored_columns = item.ignored
            checker = _Importer(report, item, commit=commit, **(importer or {}))
            continue
        assert isinstance(item, Chunk)
        for problem in item.problems:
            report.add_problem(*problem)
        report.rows = item.rows
        checker.flush(item.records)
        if progress is not None:
            progress(report.rows)
    report.problems.sort(key=lambda problem: problem.line)
    report.warnings.sort(key=lambda warning: warning.line)


def _audit(report: ImportReport, *, user, request, upload_id: str) -> None:
    audit.record(
        "customer.import",
        actor=user,
        request=request,
        object_type="import",
        object_id=upload_id,
        summary=report.file_name,
        changes={
            "file": [None, report.file_name],
            "rows": [None, report.rows],
            "created": [None, report.created],
            "updated": [None, report.updated],
            "unchanged": [None, report.unchanged],
            "generated": [None, report.generated],
        },
        data={"columns": report.columns, "new_tags": sorted(report.new_tags), "batch": report.batch_id},
    )
