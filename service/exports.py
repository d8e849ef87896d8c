"""Exporting the tickets of a queue view to .xlsx and CSV, through crm.exports' pipeline.

The selection is the queue page's GET parameters (view, status, category, priority, team,
assignee, channel, opened_from, opened_to, q), read by :func:`filtered_tickets` through the queue's own
form and query (service/forms.py QueueFilter, service/queues.py), so an export holds what the page lists. Rows come from
one ``values_list`` query streamed with ``.iterator(chunk_size=2000)``, joined to the card, the
category, the team and the users, written by crm.xlsx's streaming workbook or crm.spreadsheets'
CSV writer; text a spreadsheet would take for a formula stays text (an inline string in .xlsx, an
apostrophe in CSV). The first columns are the import's (service/import_columns.py), so an export
can be edited and imported elsewhere. Large exports run as a job (tickets_xlsx / tickets_csv,
registered in ServiceConfig.ready) with a progress bar; every export is audited (``ticket.export``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from crm import exports, spreadsheets, xlsx
from crm.formatting import in_language
from crm.spreadsheets import counting

from . import queues
from .models import Channel, Priority, Status

CHUNK_SIZE = 2000
FILTERS = (
    "view",
    "status",
    "category",
    "priority",
    "team",
    "assignee",
    "channel",
    "opened_from",
    "opened_to",
    "q",
    "o",
    "customer",
)
JOB_KINDS = {"xlsx": "tickets_xlsx", "csv": "tickets_csv"}

# (machine name, header, query field, width, kind)
COLUMNS = (
    ("number", gettext_lazy("Number"), "number", 16, "text"),
    ("customer_no", gettext_lazy("Customer number"), "customer__customer_no", 14, "text"),
    ("customer_name", gettext_lazy("Customer"), "customer__name", 14, "text"),
    ("channel", gettext_lazy("Channel"), "channel", 10, "channel"),
    ("category", gettext_lazy("Category"), "category__label_en", 14, "category"),
    ("priority", gettext_lazy("Priority"), "priority", 10, "priority"),
    ("subject", gettext_lazy("Subject"), "subject", 30, "text"),
    ("need", gettext_lazy("The customer's need"), "need", 40, "text"),
    ("team", gettext_lazy("Team"), "team__name_en", 14, "team"),
    ("assignee", gettext_lazy("Assignee"), "assignee__username", 14, "text"),
    ("status", gettext_lazy("Status"), "status", 14, "status"),
    ("opened_at", gettext_lazy("Opened"), "created_at", 17, "datetime"),
    ("first_response_at", gettext_lazy("First response"), "first_response_at", 17, "datetime"),
    ("resolved_at", gettext_lazy("Resolved"), "resolved_at", 17, "datetime"),
    ("closed_at", gettext_lazy("Closed"), "closed_at", 17, "datetime"),
    ("first_response_due", gettext_lazy("First response due"), "first_response_due", 17, "datetime"),
    ("resolution_due", gettext_lazy("Resolution due"), "resolution_due", 17, "datetime"),
    ("first_response_late", gettext_lazy("First response late"), "first_response_breached", 10, "bool"),
    ("resolution_late", gettext_lazy("Resolution late"), "resolution_breached", 10, "bool"),
    ("reopen_count", gettext_lazy("Times reopened"), "reopen_count", 10, "int"),
)
_FIELDS = [column[2] for column in COLUMNS] + ["category__label_zh", "team__name_zh"]


def params_of(query: QueryDict) -> dict[str, str]:
    """The queue view's filters as JSON (what a job and the audit entry keep)."""
    return {name: query.get(name, "").strip() for name in FILTERS if query.get(name, "").strip()}


def filtered_tickets(params: dict[str, str], user) -> QuerySet:
    """The tickets the queue page shows for ``params`` and ``user`` (service/queues.py and the
    queue's own filter form: one definition of each view and filter), in the page's order."""
    from .forms import QueueFilter

    filters = QueueFilter(params, user=user)
    filters.is_valid()  # what does not parse is left out, as on the page
    return queues.ordered(
        queues.filtered(queues.base(filters.chosen_view(), user, timezone.now()), filters.cleaned_data),
        filters.cleaned_data.get("o") or queues.DEFAULT_SORT,
    )


def _labels() -> dict[str, dict]:
    return {
        "channel": {code: str(label) for code, label in Channel.choices},
        "priority": {code: str(label) for code, label in Priority.choices},
        "status": {code: str(label) for code, label in Status.choices},
    }


def ticket_rows(queryset: QuerySet) -> Iterator[list]:
    """Every ticket as cell values in COLUMNS order, labels in the exporter's language."""
    labels = _labels()
    yes, no = gettext("Yes"), gettext("No")
    zh_at = len(COLUMNS)
    for row in queryset.values_list(*_FIELDS).iterator(chunk_size=CHUNK_SIZE):
        out = []
        for index, (_name, _header, _field, _width, kind) in enumerate(COLUMNS):
            value = row[index]
            if kind in labels:
                value = labels[kind].get(value, value)
            elif kind == "category":
                value = in_language(value, row[zh_at])
            elif kind == "team":
                value = in_language(value, row[zh_at + 1]) if value else None
            elif kind == "bool":
                value = yes if value else no
            out.append(value)
        yield out


def headers(machine: bool) -> list[str]:
    return [name if machine else str(header) for name, header, *_rest in COLUMNS]


class TicketExport(exports.Export):
    name = "tickets"
    audit_action = "ticket.export"
    job_kinds = JOB_KINDS
    max_rows_setting = "TICKET_EXPORT_DIRECT_MAX_ROWS"
    default_max_rows = 10_000

    def __init__(self, queryset: QuerySet, params: dict[str, str]):
        self.queryset, self.filters = queryset, params

    def rows(self) -> QuerySet:
        return self.queryset

    def write(self, fmt: str, out, *, progress: Callable | None = None) -> int:
        total = self.queryset.order_by().count() if progress else None
        rows = ticket_rows(self.queryset)
        if fmt == "csv":
            return spreadsheets.write_csv(out, headers(self.machine_names), rows, progress=progress, total=total)
        book = xlsx.Workbook(out, [gettext("Tickets")])
        sheet = book.add_sheet(gettext("Tickets"), widths=[c[3] for c in COLUMNS], freeze_header=True)
        sheet.append(headers(self.machine_names), style=xlsx.BOLD)
        styles = [xlsx.DATETIME if c[4] == "datetime" else None for c in COLUMNS]
        count = 0
        for row in counting(rows, progress, total):
            sheet.append(row, style=styles)
            count += 1
        sheet.close(autofilter=True)
        book.close()
        return count

    def params(self) -> dict:
        return {"filters": self.filters}

    @classmethod
    def from_params(cls, params: dict, user) -> TicketExport:
        filters = {k: str(v) for k, v in (params.get("filters") or {}).items() if k in FILTERS}
        return cls(filtered_tickets(filters, user), filters)

    def audit_selection(self) -> dict:
        return {"filters": self.filters}

    def done_message(self, rows: int) -> str:
        return ngettext("%(rows)s ticket exported.", "%(rows)s tickets exported.", rows) % {
            "rows": number_format(rows, force_grouping=True)
        }


run_export_job = TicketExport.run_job


def describe_filters(params, entry) -> str:
    """An export's filters as the audit trail shows them: "status: new; q: S2026-000001"."""
    return "; ".join(f"{name}: {value}" for name, value in (params or {}).items() if name in FILTERS)
