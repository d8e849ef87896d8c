"""The churn-warning dashboard's tables as .xlsx sheets, for the filters in the query string: the
filters, then a sheet per panel (risk over time, at risk now, value lost, retention actions, early
warning) with the same rows as the page. A few hundred rows: written in the request. Sheet names
stay English in every language, like the other exports'."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext

from crm import xlsx
from insights.models import RetentionAction

from . import churn_warning as figures
from .churn_warning_filters import ChurnWarningFilter

SUMMARY, RISK, AT_RISK, LOST, ACTIONS, WARNED = (
    "Churn warning",
    "Risk over time",
    "At risk now",
    "Value lost",
    "Retention actions",
    "Early warning",
)
SHEETS = [SUMMARY, RISK, AT_RISK, LOST, ACTIONS, WARNED]
P, M, B = xlsx.PERCENT, xlsx.MONEY, xlsx.BOLD


def _summary(book, cf: ChurnWarningFilter) -> None:
    sheet = book.add_sheet(SUMMARY, widths=(24, 50))
    sheet.append([gettext("Churn warning")], style=B)
    sheet.append([gettext("Exported at"), timezone.now()])
    sheet.append([])
    sheet.append([gettext("Filters")], style=B)
    for label, text in cf.describe():
        sheet.append([label, text])
    sheet.close()


def _risk(book, cf: ChurnWarningFilter) -> None:
    sheet = book.add_sheet(RISK, widths=(12, 12, 12, 10, 10, 10, 12, 14), freeze_header=True)
    header = [gettext("Scored day"), gettext("From"), gettext("To"), gettext("High risk"), gettext("Medium risk")]
    sheet.append([*header, gettext("Low risk"), gettext("Active customers"), gettext("Value at risk")], style=B)
    for s in figures.risk_over_time(cf).steps:
        values = [s.day, s.first, s.last, s.counts["high"], s.counts["medium"], s.counts["low"], s.total]
        sheet.append([*values, s.value_at_risk], style=[xlsx.DATE, xlsx.DATE, xlsx.DATE, *[None] * 4, M])
    sheet.close(autofilter=True)


def _at_risk(book, cf: ChurnWarningFilter) -> None:
    now = figures.at_risk_now(cf)
    sheet = book.add_sheet(AT_RISK, widths=(16, 30, 10, 10, 10, 14))
    sheet.append([gettext("Scored day"), now.day], style=[B, xlsx.DATE])
    header = [gettext("Grouped by"), gettext("Group"), gettext("High risk"), gettext("Medium risk")]
    sheet.append([*header, gettext("Customers"), gettext("Value at risk")], style=B)
    for dimension, rows in ((gettext("RFM segment"), now.by_segment), (gettext("Owner"), now.by_owner)):
        for r in rows:
            sheet.append([dimension, r.label, r.high, r.medium, r.customers, r.value_at_risk], style=[*[None] * 5, M])
    sheet.close()


def _lost(book, cf: ChurnWarningFilter) -> None:
    lost = figures.value_lost(cf)
    sheet = book.add_sheet(LOST, widths=(16, 30, 20, 10, 16, 10, 16, 12), freeze_header=True)
    header = [gettext("Grouped by"), gettext("Group"), gettext("Category"), gettext("Closures")]
    more = [gettext("Expected value lost"), gettext("Share of value lost"), gettext("Historical value")]
    sheet.append([*header, *more, gettext("Warned beforehand")], style=B)
    style = [None, None, None, None, M, P, M, P]
    for dimension, rows in ((gettext("Reason"), lost.by_reason), (gettext("Reason category"), lost.by_category)):
        for r in rows:
            values = [dimension, r.label, r.category, r.closures, r.expected_value, r.value_share, r.historical_value]
            sheet.append([*values, r.warned_share], style=style)
    t = lost.total
    values = [gettext("Total"), "", "", t.closures, t.expected_value, 1 if t.closures else None, t.historical_value]
    sheet.append([*values, t.warned_share], style=[B, *style[1:]])
    sheet.close()


def _actions(book, cf: ChurnWarningFilter) -> None:
    retention = figures.retention(cf)
    sheet = book.add_sheet(ACTIONS, widths=(24, 12, 12, 12, 12, 10, 12))
    outcomes = [str(label) for _key, label in RetentionAction.Outcome.choices]
    sheet.append([gettext("Action"), *outcomes, gettext("Total"), gettext("Retention rate")], style=B)
    for r in (*retention.by_kind, retention.total):
        sheet.append([r.label, *r.cells, r.total, r.retention_rate], style=[*[None] * 6, P])
    if retention.closed_reasons:
        sheet.append([])
        sheet.append([gettext("Closure reason of the actions that ended in a closure"), gettext("Actions")], style=B)
        for label, n in retention.closed_reasons:
            sheet.append([label, n])
    sheet.close()


def _warned(book, cf: ChurnWarningFilter) -> None:
    early = figures.early_warning(cf)
    sheet = book.add_sheet(WARNED, widths=(30, 12, 12))
    for label, value, style in (
        (gettext("Closures"), early.closures, None),
        (gettext("Warned beforehand"), early.warned, None),
        (gettext("Share warned beforehand"), early.warned_share, P),
        (gettext("Median lead time (days)"), early.median_days, None),
        (gettext("Mean lead time (days)"), early.mean_days, None),
    ):
        sheet.append([label, value], style=[None, style])
    sheet.append([])
    sheet.append([gettext("Lead time"), gettext("Closures"), gettext("Share of the warned")], style=B)
    for b in early.buckets:
        sheet.append([b.label, b.count, b.share], style=[None, None, P])
    sheet.close()


def write_workbook(out, cf: ChurnWarningFilter) -> None:
    book = xlsx.Workbook(out, SHEETS)
    for write in (_summary, _risk, _at_risk, _lost, _actions, _warned):
        write(book, cf)
    book.close()
