"""Exporting the "At risk" list to .xlsx, through crm.exports' pipeline.

The selection is the list's own URL parameters, read by the list's own form (insights/forms.py
AtRiskFilter: band, segment, owner, sort ...), so the file holds the page's rows in the page's
order. One ``values_list`` query streamed with ``.iterator(chunk_size=2000)`` (the card and its
owner joined), the reasons put in words in the exporter's language, written by crm.xlsx's
streaming workbook. No phone or e-mail column: the list has none, so the export needs no masking
(customers.view_unmasked_contacts). Large exports run as a job (``at_risk_xlsx``, registered in
InsightsConfig.ready) with a progress bar; every export is audited (``insights.export``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from crm import audit, exports, xlsx
from crm.models import Job
from crm.spreadsheets import counting

from . import risk
from .forms import AtRiskFilter, at_risk_scores
from .models import Segment

CHUNK_SIZE = 2000
JOB_KIND = Job.Kind.AT_RISK_XLSX
AUDIT_ACTION = "insights.export"
audit.ACTION_LABELS[AUDIT_ACTION] = gettext_lazy("Customers at risk exported")

# (header, query field, width, cell style)
COLUMNS = (
    (gettext_lazy("Customer number"), "customer__customer_no", 14, None),
    (gettext_lazy("Name"), "customer__name", 16, None),
    (gettext_lazy("Owner"), "customer__owner__username", 14, None),
    (gettext_lazy("Risk"), "risk", 8, None),
    (gettext_lazy("Risk band"), "", 12, None),
    (gettext_lazy("Why"), "reasons", 60, None),
    (gettext_lazy("RFM segment"), "segment", 16, None),
    (gettext_lazy("Expected value, next 12 months"), "expected_value", 14, xlsx.MONEY),
    (gettext_lazy("Value at risk"), "value_at_risk", 14, xlsx.MONEY),
    (gettext_lazy("Probability alive"), "probability_alive", 10, xlsx.PERCENT),
    (gettext_lazy("Days since the last purchase"), "recency_days", 10, None),
    (gettext_lazy("Scored on"), "as_of", 12, xlsx.DATE),
)
_FIELDS = [field for _header, field, _width, _style in COLUMNS if field]


def params_of(query: QueryDict) -> dict[str, str]:
    """The list's filters as JSON (what a job and the audit entry keep): the list form's fields only."""
    return {name: query.get(name, "").strip() for name in AtRiskFilter.base_fields if query.get(name, "").strip()}


def score_rows(queryset: QuerySet) -> Iterator[list]:
    """Every score as cell values in COLUMNS order, words in the exporter's language."""
    segments = {code: str(label) for code, label in Segment.choices}
    for row in queryset.values_list(*_FIELDS).iterator(chunk_size=CHUNK_SIZE):
        number, name, owner, level, reasons, segment, worth, at_risk, alive, recency, as_of = row
        yield [
            number,
            name,
            owner,
            level,
            str(risk.band(level)["label"]),
            " ".join(risk.describe(reason) for reason in reasons or []),
            segments.get(segment, segment),
            worth,
            at_risk,
            alive,
            recency,
            as_of,
        ]


class AtRiskExport(exports.Export):
    name = "at-risk"
    audit_action = AUDIT_ACTION
    job_kinds = {"xlsx": JOB_KIND}
    max_rows_setting = "AT_RISK_EXPORT_DIRECT_MAX_ROWS"
    default_max_rows = 10_000

    def __init__(self, queryset: QuerySet, params: dict[str, str]):
        self.queryset, self.filters = queryset, params

    def rows(self) -> QuerySet:
        return self.queryset

    def write(self, fmt: str, out, *, progress: Callable | None = None) -> int:
        total = self.queryset.order_by().count() if progress else None
        book = xlsx.Workbook(out, [gettext("Customers at risk")])
        sheet = book.add_sheet(gettext("Customers at risk"), widths=[c[2] for c in COLUMNS], freeze_header=True)
        sheet.append([str(c[0]) for c in COLUMNS], style=xlsx.BOLD)
        styles = [c[3] for c in COLUMNS]
        count = 0
        for row in counting(score_rows(self.queryset), progress, total):
            sheet.append(row, style=styles)
            count += 1
        sheet.close(autofilter=True)
        book.close()
        return count

    def params(self) -> dict:
        return {"filters": self.filters}

    @classmethod
    def from_params(cls, params: dict, user) -> AtRiskExport:
        filters = {k: str(v) for k, v in (params.get("filters") or {}).items() if k in AtRiskFilter.base_fields}
        return cls(at_risk_scores(AtRiskFilter(filters), user), filters)

    def audit_selection(self) -> dict:
        return {"filters": self.filters}

    def done_message(self, rows: int) -> str:
        return ngettext("%(rows)s customer at risk exported.", "%(rows)s customers at risk exported.", rows) % {
            "rows": number_format(rows, force_grouping=True)
        }


run_export_job = AtRiskExport.run_job


def describe_filters(params, entry) -> str:
    """An export's filters as the audit trail shows them: "Risk: High risk; Sort by: Risk"."""
    form = AtRiskFilter()
    parts = []
    for name, value in (params or {}).items():
        field = form.fields.get(name)
        if field is not None:
            choices = {str(key): label for key, label in getattr(field, "choices", ())}
            parts.append(f"{field.label}: {choices.get(str(value), value)}")
    return "; ".join(parts)
