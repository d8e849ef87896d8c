"""Exporting the customers of a search to .xlsx and CSV, in bounded memory whatever the size.

The rows are exactly the search page's (customers.filters.filtered_customers: box, filters,
active-only default, sort). They come from one query over ``values_list`` with the owner's
username joined in (``.iterator(chunk_size=2000)``: no model instances, a server-side cursor
on PostgreSQL) plus one query per 2,000 rows for their tags, and go straight into
crm.xlsx's streaming workbook or a CSV writer that write to a temporary file as they go.

- The columns are the import template's (customer_no ... source), so an export can be
  edited and imported again, followed by the read-only ones (status, dates, purchase
  figures) that the import reads past. Their headers are in the exporter's language
  (customers.columns.HEADER_LABELS, which the import reads in both languages), or the machine
  names (``customer_no``) when the exporter ticks "Machine column names" for an integration.
- .xlsx: bold frozen header, autofilter, column widths, dates as real dates in the
  configured time zone, amounts and counts as numbers. CSV: UTF-8 with a byte-order mark
  so Excel shows Chinese. Text that a spreadsheet would take for a formula is neutralised
  by crm.spreadsheets (a text cell in .xlsx, an apostrophe in CSV).
- The language for messages and the contact consent (email_marketing, sms_marketing,
  phone_marketing: surveys and offers on that channel; do_not_contact) come after the card's
  columns, yes or no in the exporter's language, read per chunk like the tags.
- Phones and emails are exported in full: only Admins may export (customers.export_customers).
- An erased customer keeps its row (so the count matches the search) with its number,
  status and dates only: no personal data leaves the system.
- The rest is crm.exports' pipeline, shared with the closure export: small exports are
  answered in the request; larger ones run as a job with a progress bar (the customers_xlsx /
  customers_csv job kinds, registered in customers/apps.py); every export is audited with
  its filters and row count. :class:`CustomerExport` says which customers and how.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.conf import settings
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from crm import exports, spreadsheets, xlsx
from crm.models import Job
from crm.spreadsheets import counting

from .columns import CONSENT_OF, HEADER_LABELS
from .models import ContactConsent, Customer

CHUNK_SIZE = 2000
CONSENT_CHANNELS = [channel for channel, _field in CONSENT_OF.values() if channel]  # the *_marketing columns


@dataclass(frozen=True)
class Column:
    name: str
    field: str  # in values_list; "" for tags (read per chunk)
    width: int
    kind: str = "text"  # text, choice, date, datetime, money, int
    personal: bool = True  # blank for an erased customer


COLUMNS: tuple[Column, ...] = (
    Column("customer_no", "customer_no", 14, personal=False),
    Column("name", "name", 16),
    Column("gender", "gender", 10, "choice"),
    Column("birth_date", "birth_date", 12, "date"),
    Column("occupation", "occupation", 16),
    Column("company", "company", 24),
    Column("title", "title", 14),
    Column("phone", "phone", 16),
    Column("email", "email", 26),
    Column("wechat", "wechat", 16),
    Column("city", "city", 10),
    Column("address", "address", 32),
    Column("segment", "segment", 14, "choice"),
    Column("stage", "stage", 14, "choice"),
    Column("owner", "owner__username", 14),
    Column("tags", "", 20),
    Column("preferences", "preferences", 30),
    Column("balance", "balance", 12, "money"),
    Column("points", "points", 10, "int"),
    Column("customer_since", "customer_since", 12, "date", personal=False),
    Column("source", "source", 16, personal=False),
    Column("language", "language", 12, "choice"),
    Column("email_marketing", "", 12, "consent"),
    Column("sms_marketing", "", 12, "consent"),
    Column("phone_marketing", "", 12, "consent"),
    Column("do_not_contact", "", 12, "consent"),
    Column("status", "status", 10, "choice", personal=False),
    Column("created_at", "created_at", 17, "datetime", personal=False),
    Column("updated_at", "updated_at", 17, "datetime", personal=False),
    Column("last_interaction_at", "last_interaction_at", 17, "datetime"),
    Column("last_purchase_on", "last_purchase_on", 12, "date"),
    Column("purchase_count", "purchase_count", 10, "int"),
    Column("purchase_total", "purchase_total", 14, "money"),
)
XLSX_STYLES = {"date": xlsx.DATE, "datetime": xlsx.DATETIME, "money": xlsx.MONEY}
_QUERY_FIELDS = ("id", *(c.field for c in COLUMNS if c.field))


def headers(machine: bool = False) -> list[str]:
    """The header row: in the active language, or the machine names (``customer_no``) for integrations."""
    if machine:
        return [column.name for column in COLUMNS]
    return [str(HEADER_LABELS[column.name]) for column in COLUMNS]


def _choice_labels() -> dict[str, dict[str, str]]:
    """Code -> label in the active language, for every choice column."""
    return {
        "gender": {code: str(label) for code, label in Customer.Gender.choices if code},
        "segment": {code: str(label) for code, label in Customer.Segment.choices},
        "stage": {code: str(label) for code, label in Customer.Stage.choices},
        "status": {code: str(label) for code, label in Customer.Status.choices},
        "language": {code: str(label) for code, label in settings.LANGUAGES},
    }


def _consent_cells(customer_ids: list[int]) -> dict[int, list]:
    """The consent columns of a chunk's customers in one query: yes or no in the exporter's language.

    do_not_contact is yes when every channel is blocked, no when none is, empty (unchanged when
    imported again) when only some are."""
    yes, no = gettext("Yes"), gettext("No")
    found: dict[int, dict[str, tuple[bool, bool]]] = {}
    rows = ContactConsent.objects.filter(customer_id__in=customer_ids)
    for customer_id, channel, marketing, blocked in rows.values_list(
        "customer_id", "channel", "marketing", "do_not_contact"
    ):
        found.setdefault(customer_id, {})[channel] = (marketing, blocked)
    cells = {}
    for customer_id in customer_ids:
        mine = found.get(customer_id, {})
        marketing = [yes if mine.get(channel, (False, False))[0] else no for channel in CONSENT_CHANNELS]
        blocked = {mine.get(channel, (False, False))[1] for channel in ContactConsent.Channel.values}
        cells[customer_id] = [*marketing, (yes if True in blocked else no) if len(blocked) == 1 else None]
    return cells


def customer_rows(queryset: QuerySet) -> Iterator[list]:
    """Every customer of ``queryset`` as a list of cell values in COLUMNS order (labels translated)."""
    labels = _choice_labels()
    erased = Customer.Status.ERASED
    Through = Customer.tags.through
    plan = []  # (position in the query row, or "tags" or a consent cell's index; choice labels or None; personal)
    position = {field: i for i, field in enumerate(_QUERY_FIELDS)}
    consent_at = iter(range(len(CONSENT_CHANNELS) + 1))
    for column in COLUMNS:
        at = position.get(column.field) if column.field else "tags" if column.name == "tags" else next(consent_at)
        plan.append((at, labels.get(column.name), column.personal, column.kind == "consent"))
    rows = queryset.prefetch_related(None).values_list(*_QUERY_FIELDS).iterator(chunk_size=CHUNK_SIZE)
    while True:
        chunk = list(islice(rows, CHUNK_SIZE))
        if not chunk:
            return
        consents = _consent_cells([r[0] for r in chunk])
        tags: dict[int, list[str]] = {}
        links = Through.objects.filter(customer_id__in=[r[0] for r in chunk]).order_by("tag__name")
        for customer_id, name in links.values_list("customer_id", "tag__name"):
            tags.setdefault(customer_id, []).append(name)
        status_at = position["status"]
        for r in chunk:
            is_erased = r[status_at] == erased
            out = []
            for at, choices, personal, is_consent in plan:
                if is_erased and personal:
                    out.append(None)
                elif is_consent:
                    out.append(consents[r[0]][at])
                elif at == "tags":
                    out.append(", ".join(tags.get(r[0], ())))
                elif choices is not None:
                    out.append(choices.get(r[at], r[at]))
                else:
                    out.append(r[at])
            yield out


def write_xlsx(
    queryset: QuerySet, out, *, progress: Callable | None = None, total: int | None = None, machine: bool = False
) -> int:
    """Write the "Customers" sheet to the binary file ``out``; return the number of customers.

    Through crm.xlsx, the streaming writer the closure export uses (about ten times faster than
    openpyxl's write-only mode, in flat memory; see its docstring): bold frozen header,
    autofilter, column widths, dates in the configured time zone, amounts with two decimals,
    every text as an inline string (never a formula).
    """
    book = xlsx.Workbook(out, [gettext("Customers")])
    sheet = book.add_sheet(gettext("Customers"), widths=[c.width for c in COLUMNS], freeze_header=True)
    sheet.append(headers(machine), style=xlsx.BOLD)
    styles = [XLSX_STYLES.get(c.kind) for c in COLUMNS]
    count = 0
    for row in counting(customer_rows(queryset), progress, total):
        sheet.append(row, style=styles)
        count += 1
    sheet.close(autofilter=True)
    book.close()
    return count


def write_csv(
    queryset: QuerySet, out, *, progress: Callable | None = None, total: int | None = None, machine: bool = False
) -> int:
    """UTF-8 with a byte-order mark, so Excel shows Chinese; return the number of customers."""
    return spreadsheets.write_csv(out, headers(machine), customer_rows(queryset), progress=progress, total=total)


WRITERS = {"xlsx": write_xlsx, "csv": write_csv}


def search_params(query: QueryDict) -> dict[str, list[str]]:
    """The search's parameters as JSON (what the audit entry and a job keep): no page, no format."""
    return {key: values for key, values in query.lists() if key not in ("page", "format", exports.MACHINE_NAMES)}


class CustomerExport(exports.Export):
    """The customers of a search (customers.filters.filtered_customers); crm.exports does the rest."""

    name = "customers"
    audit_action = "customer.export"
    job_kinds = {"xlsx": Job.Kind.CUSTOMERS_XLSX, "csv": Job.Kind.CUSTOMERS_CSV}
    max_rows_setting = "CUSTOMER_EXPORT_DIRECT_MAX_ROWS"
    default_max_rows = 10_000

    def __init__(self, queryset: QuerySet, search: dict[str, list[str]]):
        self.queryset = queryset
        self.search = search  # the search's parameters (search_params), which selected ``queryset``

    def rows(self) -> QuerySet:
        return self.queryset

    def write(self, fmt: str, out, *, progress: Callable | None = None) -> int:
        total = self.queryset.order_by().count() if progress else None
        return WRITERS[fmt](self.queryset, out, progress=progress, total=total, machine=self.machine_names)

    def params(self) -> dict:
        return {"filters": self.search}

    @classmethod
    def from_params(cls, params: dict, user) -> "CustomerExport":
        from .filters import as_querydict, filtered_customers

        search = params.get("filters") or {}
        _filterset, queryset = filtered_customers(as_querydict(search), user)
        return cls(queryset, search)

    def audit_selection(self) -> dict:
        return {"filters": self.search}

    def done_message(self, rows: int) -> str:
        return ngettext("%(rows)s customer exported.", "%(rows)s customers exported.", rows) % {
            "rows": number_format(rows, force_grouping=True)
        }


run_export_job = CustomerExport.run_job


def describe_search(params, entry) -> str:
    """A search's parameters in the reader's language: each filter's label and its values in words."""
    from . import extra_filters
    from .filters import CustomerFilter

    parts = []
    for key, values in (params or {}).items():
        registered = extra_filters.get(key)
        if registered is not None:
            label, words = registered.describe(values if isinstance(values, list) else [values])
            parts.append(f"{label}: {words}")
            continue
        found = CustomerFilter.base_filters.get(key)
        if found is None:
            continue
        choices = dict(found.extra.get("choices") or ())
        words = ", ".join(
            str(choices.get(value, value)) for value in (values if isinstance(values, list) else [values])
        )
        parts.append(f"{found.label}: {words}")
    return "; ".join(parts)
