"""Exports of the filtered closures to .xlsx and CSV, in bounded memory whatever the size.

Rows come from one SQL query joined to customers, reasons and users
(``values_list(...).iterator(chunk_size=...)``: no model instances, no query per row;
a server-side cursor on PostgreSQL) and go straight into a streaming .xlsx writer
(crm/xlsx.py, which explains why not openpyxl) or a CSV writer, both of which write
to a temporary file as they go. The .xlsx also has a Summary sheet (the filters and the
dashboard's figures) and a Cohorts sheet (the dashboard's cohort table by month). The closures'
headers are in the exporter's language, or machine names (``customer_no``, ``performed_at``) when
they tick "Machine column names" (crm.exports.MACHINE_NAMES).

What is not particular to closures (answering in the request or as a job, the job's
runner, the audit entry with the filters and the row count) is crm.exports' pipeline:
:class:`ClosureExport` says which closures and how they are written, and its runner is
registered for the closures_xlsx and closures_csv job kinds in analytics/apps.py.
"""

from collections.abc import Callable, Iterator
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from closures import categories as reason_categories
from closures import settlement
from closures.models import Action
from crm import exports, spreadsheets, xlsx
from crm.models import Job
from crm.routers import reporting_db
from crm.spreadsheets import counting
from customers.models import Customer

from . import cohorts as cohorts_module
from . import figures as figures_module
from . import followup_sheets, listing, service_closures, service_sheets
from . import improvements as improvements_module
from .filters import ClosureFilter, person_name

CHUNK_SIZE = 2000

# The "Closures" sheet / CSV columns: (header in the exporter's language, machine name, width in characters).
COLUMNS = [
    (_("Customer number"), "customer_no", 16),
    (_("Name"), "name", 16),
    (_("Segment"), "segment", 13),
    (_("Owner"), "owner", 16),
    (_("Tenure (days)"), "tenure_days", 10),
    (_("Action"), "action", 12),
    (_("Category"), "category", 16),
    (_("Reason"), "reason", 26),
    (_("Notes"), "notes", 40),
    (_("Performed by"), "performed_by", 16),
    (_("Performed at"), "performed_at", 17),
    (_("Reverted at"), "reverted_at", 17),
    (_("Reverted by"), "reverted_by", 16),
    (_("Reinstatement note"), "revert_note", 30),
    (_("Balance at closure"), "balance_at_closure", 12),
    (_("Points at closure"), "points_at_closure", 10),
    (_("Settlement"), "settlement", 22),
    (_("Settled amount"), "settled_amount", 12),
]
# Sheet names stay English in every language, so formulas and macros that refer to them keep working.
SUMMARY_SHEET, CLOSURES_SHEET, COHORTS_SHEET = "Summary", "Closures", "Cohorts"

# One query: the closure joined to its customer, reason, owner, performer and reverter.
FIELDS = (
    "customer__customer_no",
    "customer__name",
    "customer__status",
    "customer_erased",
    "segment",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "tenure_days",
    "action",
    "category",
    "reason__label_en",
    "reason__label_zh",
    "notes",
    "performed_by__username",
    "performed_by__first_name",
    "performed_by__last_name",
    "performed_at",
    "reverted_at",
    "reverted_by__username",
    "reverted_by__first_name",
    "reverted_by__last_name",
    "revert_note",
    "performed_by_name",
    "balance_at_closure",
    "points_at_closure",
    "settlement",
    "settlement_method",
    "settled_to__customer_no",
    "settled_amount",
)


def headers(machine: bool = False) -> list[str]:
    """The header row: in the active language, or the machine names (``customer_no``) for integrations."""
    return [name if machine else str(header) for header, name, _width in COLUMNS]


def closure_rows(fs: ClosureFilter) -> Iterator[list]:
    """Every selected closure as a list of cell values (labels in the active language)."""
    zh = (translation.get_language() or "").lower().startswith("zh")
    actions = {k: str(v) for k, v in Action.choices}
    categories = reason_categories.labels(using=fs.queryset.db)
    segments = {k: str(v) for k, v in Customer.Segment.choices}
    erased = Customer.Status.ERASED
    names: dict[tuple, str] = {}
    imported = gettext("%(name)s (imported)")

    def name(first, last, username):
        if not username:
            return ""
        key = (first, last, username)
        if key not in names:
            names[key] = person_name(first, last, username)
        return names[key]

    queryset = fs.qs.order_by("performed_at", "id").values_list(*FIELDS)
    for r in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [
            r[0],
            "" if (r[2] == erased or r[3]) else r[1],
            segments.get(r[4], r[4]),
            name(r[6], r[7], r[5]),
            r[8],
            actions.get(r[9], r[9]),
            categories.get(r[10], r[10]),
            (r[12] if zh and r[12] else r[11]) or "",
            r[13],
            imported % {"name": r[23]} if r[23] else name(r[15], r[16], r[14]),
            r[17],
            r[18],
            name(r[20], r[21], r[19]),
            r[22],
            r[24],
            r[25],
            settlement.words(r[26], r[27], r[28] or ""),
            r[29],
        ]


# --- .xlsx --------------------------------------------------------------------------------
def _churn_rows(sheet, churn) -> None:
    """The churn rate with its numerator and the parts of its denominator, or why it is not shown."""
    if churn.blocked_by:
        why = gettext("Not shown when filtering by %(filters)s (they describe closures, not customers).")
        sheet.append([gettext("Churn rate"), why % {"filters": ", ".join(churn.blocked_by)}])
        return
    rows = (
        (gettext("Churn rate"), lambda p: p.rate),
        (gettext("Cards closed (%(action)s)") % {"action": churn.action_label}, lambda p: p.churned),
        (gettext("Cards active at the start"), lambda p: p.active_at_start),
        (gettext("Cards that became customers in the period"), lambda p: p.new),
        (gettext("Cards reinstated in the period"), lambda p: p.reactivated),
        (gettext("Cards active during the period"), lambda p: p.population),
    )
    for part, in_comparison in ((churn.current, False), (churn.comparison, True)):
        if part is None:
            continue
        for label, value in rows:
            if in_comparison:
                label = gettext("%(figure)s (comparison period)") % {"figure": label}
            style = [None, xlsx.PERCENT2] if value is rows[0][1] else None
            sheet.append([label, value(part)], style=style)


def _summary_sheet(book: xlsx.Workbook, fs: ClosureFilter, figures) -> None:
    sheet = book.add_sheet(SUMMARY_SHEET, widths=(36, 40, 12, 10))
    heading = [xlsx.BOLD]
    sheet.append([gettext("Closures export")], style=heading)
    sheet.append([gettext("Exported at"), timezone.now()])
    sheet.append([])
    sheet.append([gettext("Filters")], style=heading)
    for label, text in fs.describe():
        sheet.append([label, text])
    sheet.append([])
    sheet.append([gettext("Key figures")], style=heading)
    sheet.append([gettext("Closures"), figures.total])
    for s in figures.by_action:
        sheet.append([s.label, s.count])
    _churn_rows(sheet, figures.churn)
    sheet.append([gettext("Closures in the comparison period"), figures.previous_total])
    change = None if figures.total_change is None else figures.total_change / 100
    sheet.append([gettext("Change against the comparison period"), change], style=[None, xlsx.SIGNED_PERCENT])
    leading = figures.leading_reason
    sheet.append([gettext("Leading reason"), leading.label if leading else "", leading.count if leading else None])
    sheet.append([gettext("Reinstated"), figures.reinstated])
    sheet.append([gettext("Pending approvals"), figures.pending_approvals])
    sheet.append([])
    sheet.append([gettext("Reason"), gettext("Category"), gettext("Closures"), gettext("Share")], style=xlsx.BOLD)
    for s in figures.by_reason:
        sheet.append([s.label, s.note, s.count, s.share], style=[None, None, None, xlsx.PERCENT])
    sheet.append([])
    sheet.append([gettext("Category"), gettext("Closures"), gettext("Share")], style=xlsx.BOLD)
    for s in figures.by_category:
        sheet.append([s.label, s.count, s.share], style=[None, None, xlsx.PERCENT])
    sheet.close()


def _cohorts_sheet(book: xlsx.Workbook, fs: ClosureFilter) -> None:
    """The dashboard's cohort table by month (analytics/cohorts.py): counts and shares, the cells
    of cohorts too young to say left empty."""
    table = cohorts_module.cohort_table(fs, grain="month")
    sheet = book.add_sheet(COHORTS_SHEET, widths=(12, 12) + (12, 10) * len(table.horizons), freeze_header=True)
    header = [gettext("Started"), gettext("Customers")]
    for months in table.horizons:
        header += [
            ngettext("Closed within %(n)s month", "Closed within %(n)s months", months) % {"n": months},
            gettext("Share"),
        ]
    sheet.append(header, style=xlsx.BOLD)
    for row in table.rows:
        values, styles = [row.label, row.size], [None, None]
        for cell in row.cells:
            values += [cell.closed, cell.share]
            styles += [None, xlsx.PERCENT]
        sheet.append(values, style=styles)
    sheet.append([])
    sheet.append([gettext("Empty cells: the cohort is not that old yet. Void records are not counted.")])
    sheet.close()


def write_xlsx(fs: ClosureFilter, out, *, progress: Callable | None = None, machine: bool = False) -> int:
    """Write the Summary and Closures sheets to the binary file ``out``; return the row count."""
    figures = figures_module.compute(fs)
    book = xlsx.Workbook(
        out,
        [
            SUMMARY_SHEET,
            CLOSURES_SHEET,
            COHORTS_SHEET,
            *followup_sheets.SHEETS,
            improvements_module.SHEET,
            *service_sheets.SHEETS,
        ],
    )
    _summary_sheet(book, fs, figures)
    sheet = book.add_sheet(CLOSURES_SHEET, widths=[width for _header, _name, width in COLUMNS], freeze_header=True)
    sheet.append(headers(machine), style=xlsx.BOLD)
    count = 0
    for row in counting(closure_rows(fs), progress, figures.total):
        sheet.append(row)
        count += 1
    sheet.close(autofilter=True)
    _cohorts_sheet(book, fs)
    followup_sheets.write(book, fs, machine=machine)
    improvements_module.write_sheet(book, fs, machine=machine)
    _service_sheets(book, fs)
    book.close()
    return count


def _service_sheets(book: xlsx.Workbook, fs: ClosureFilter) -> None:
    """The service dashboard's sheets for the closures' period (every ticket), with the share of
    service-reason closures whose last ticket missed its SLA (analytics/service_closures.py)."""
    share = service_closures.compute(fs)
    rows = (
        (gettext("Closures with a service reason"), share.closures, None),
        (gettext("... whose last ticket before the closure missed its SLA"), share.breached, None),
        (gettext("Share of service-reason closures after a missed SLA"), share.share, xlsx.PERCENT),
    )
    service_sheets.write(book, service_sheets.for_closures(fs), extra_rows=rows)


# --- CSV ----------------------------------------------------------------------------------
def write_csv(fs: ClosureFilter, out, *, progress: Callable | None = None, machine: bool = False) -> int:
    """UTF-8 with a byte-order mark, so Excel shows Chinese correctly; return the row count."""
    total = fs.qs.order_by().count() if progress else None
    return spreadsheets.write_csv(out, headers(machine), closure_rows(fs), progress=progress, total=total)


WRITERS = {"xlsx": write_xlsx, "csv": write_csv}


class ClosureExport(exports.Export):
    """The closures a ClosureFilter selects (crm.exports does the rest)."""

    name = "closures"
    audit_action = "closures.export"
    job_kinds = {"xlsx": Job.Kind.CLOSURES_XLSX, "csv": Job.Kind.CLOSURES_CSV}
    max_rows_setting = "ANALYTICS_EXPORT_DIRECT_MAX_ROWS"
    default_max_rows = 20_000

    def __init__(self, fs: ClosureFilter, drill: dict | None = None):
        self.fs = fs
        self.drill = drill or {}  # the closure list's drill-down (analytics.listing), already applied to fs

    def rows(self) -> QuerySet:
        return self.fs.qs

    def write(self, fmt: str, out, *, progress: Callable | None = None) -> int:
        return WRITERS[fmt](self.fs, out, progress=progress, machine=self.machine_names)

    def params(self) -> dict:
        """The filters and the day they were read (a job run tomorrow selects today's "last 30 days")."""
        return {"filters": self.fs.params(), "today": self.fs.today.isoformat(), "drill": self.drill}

    @classmethod
    def from_params(cls, params: dict, user) -> "ClosureExport":
        drill = params.get("drill") or {}
        narrowed, _by_service = listing.drill_down(drill, using=reporting_db())
        queryset = {} if narrowed is None else {"queryset": narrowed}
        today = date.fromisoformat(params["today"])
        fs = ClosureFilter(params.get("filters") or {}, today=today, user=user, **queryset)
        if not fs.is_valid():
            raise ValueError(gettext("The export's filters are not valid: %(errors)s") % {"errors": fs.errors})
        return cls(fs, drill=drill)

    def audit_selection(self) -> dict:
        return {"filters": self.fs.params(), **({"drill": self.drill} if self.drill else {})}

    def done_message(self, rows: int) -> str:
        return ngettext("%(rows)s closure exported.", "%(rows)s closures exported.", rows) % {
            "rows": number_format(rows, force_grouping=True)
        }


run_export_job = ClosureExport.run_job


def describe_drill(params, entry) -> str:
    """An export's drill-down of the closure list in the reader's language."""
    return listing.describe_drill(params or {}, using=reporting_db()) or str(params)


def describe_filters(params, entry) -> str:
    """An export's filters in the reader's language, as they selected on the day it ran."""
    fs = ClosureFilter(params or {}, today=timezone.localdate(entry.at))
    if not fs.is_valid():
        return ", ".join(f"{key}={value}" for key, value in (params or {}).items())
    return "; ".join(f"{label}: {text}" for label, text in fs.describe())
