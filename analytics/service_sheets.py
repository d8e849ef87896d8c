"""The service figures as .xlsx sheets: in the service dashboard's own export and in the closure
analytics export (for its period, every ticket).

- "Service": the filters, the key figures (tickets opened, resolved, cancelled, backlog at both
  ends, SLA compliance, first-response and resolution times in working hours, reopen rate) and a
  row per category, channel, team and priority;
- "Service over time": per month (or week) tickets opened, resolved and the backlog at its end;
- "Churn after service": the closure rate within 90 days of customers with and without a ticket,
  by category, SLA met or missed, reopened or not.

Sheet names stay English in every language, like the closure export's.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext

from crm import xlsx

from . import service as service_figures
from . import service_churn
from .service_filters import ServiceFilter

SERVICE_SHEET, OVER_TIME_SHEET, CHURN_SHEET = "Service", "Service over time", "Churn after service"
SHEETS = [SERVICE_SHEET, OVER_TIME_SHEET, CHURN_SHEET]
P = xlsx.PERCENT


def _group_header() -> list[str]:
    return [
        gettext("Grouped by"),
        gettext("Group"),
        gettext("Tickets opened"),
        gettext("Share"),
        gettext("Resolved"),
        gettext("SLA met"),
        gettext("First response on time"),
        gettext("Resolved on time"),
        gettext("Reopen rate"),
    ]


def _service_sheet(book, sf: ServiceFilter, figures, extra_rows=()) -> None:
    sheet = book.add_sheet(SERVICE_SHEET, widths=(24, 30, 12, 10, 10, 10, 12, 12, 10))
    bold = [xlsx.BOLD]
    sheet.append([gettext("Service figures")], style=bold)
    sheet.append([gettext("Exported at"), timezone.now()])
    sheet.append([])
    sheet.append([gettext("Filters")], style=bold)
    for label, text in sf.describe():
        sheet.append([label, text])
    sheet.append([])
    t, times = figures.total, figures.times
    sheet.append([gettext("Key figures")], style=bold)
    for label, value, style in (
        (gettext("Tickets opened"), t.opened, None),
        (gettext("Tickets resolved"), t.resolved, None),
        (gettext("Tickets cancelled"), t.cancelled, None),
        (gettext("Open tickets at the start"), figures.backlog_at_start, None),
        (gettext("Open tickets at the end"), figures.backlog_at_end, None),
        (gettext("SLA met (tickets resolved)"), t.sla_rate, P),
        (gettext("First response on time"), t.fr_rate, P),
        (gettext("Resolved on time"), t.res_rate, P),
        (gettext("Median first response (working hours)"), service_figures.hours(times.fr_median), None),
        (gettext("90th percentile first response (working hours)"), service_figures.hours(times.fr_p90), None),
        (gettext("Median resolution (working hours)"), service_figures.hours(times.res_median), None),
        (gettext("90th percentile resolution (working hours)"), service_figures.hours(times.res_p90), None),
        (gettext("Reopen rate"), t.reopen_rate, P),
        *extra_rows,
    ):
        sheet.append([label, value], style=[None, style])
    sheet.append([gettext("Times are read from buckets 25 % wide: within 25 % of the exact value.")])
    sheet.append([])
    sheet.append(_group_header(), style=xlsx.BOLD)
    for dimension, groups in (
        (gettext("Category"), figures.by_category),
        (gettext("Channel"), figures.by_channel),
        (gettext("Team"), figures.by_team),
        (gettext("Priority"), figures.by_priority),
    ):
        for g in groups:
            c = g.counts
            values = [dimension, g.label, c.opened, g.share, c.resolved, c.sla_rate, c.fr_rate, c.res_rate]
            sheet.append(values + [c.reopen_rate], style=[None, None, None, P, None, P, P, P, P])
    sheet.close()


def _over_time_sheet(book, figures) -> None:
    sheet = book.add_sheet(OVER_TIME_SHEET, widths=(12, 12, 12, 12, 12), freeze_header=True)
    header = [gettext("From"), gettext("To"), gettext("Tickets opened"), gettext("Resolved"), gettext("Open tickets")]
    sheet.append(header, style=xlsx.BOLD)
    for s in figures.steps:
        sheet.append([s.first, s.last, s.opened, s.resolved, s.backlog], style=[xlsx.DATE, xlsx.DATE])
    sheet.close(autofilter=True)


def _churn_sheet(book, churn) -> None:
    sheet = book.add_sheet(CHURN_SHEET, widths=(20, 30, 12, 12, 10), freeze_header=True)
    header = [gettext("Grouped by"), gettext("Group"), gettext("Customers"), gettext("Closed within 90 days")]
    sheet.append(header + [gettext("Share closed within 90 days")], style=xlsx.BOLD)
    groups = [(gettext("All"), [churn.with_ticket] + ([churn.without_ticket] if churn.without_ticket else []))]
    groups += [(gettext("Category"), churn.by_category), (gettext("SLA"), churn.by_sla)]
    groups.append((gettext("Reopened"), churn.by_reopened))
    for dimension, rates in groups:
        for r in rates:
            sheet.append([dimension, r.label, r.customers, r.closed, r.rate], style=[None, None, None, None, P])
    if churn.window_open:
        sheet.append([])
        sheet.append([gettext("Tickets opened less than 90 days ago have not had their 90 days yet.")])
    sheet.close()


def write(book, sf: ServiceFilter, *, extra_rows=()) -> None:
    """Add the three service sheets (declared in ``SHEETS``) to ``book``."""
    figures = service_figures.compute(sf)
    _service_sheet(book, sf, figures, extra_rows)
    _over_time_sheet(book, figures)
    _churn_sheet(book, service_churn.compute(sf))


def for_closures(fs) -> ServiceFilter:
    """The service filter of a closure filter's period (every ticket), for the closure export."""
    data = {"period": fs.period_key}
    for name in ("start", "end"):
        if fs.cleaned.get(name):
            data[name] = fs.cleaned[name].isoformat()
    return ServiceFilter(data, today=fs.today, using=fs.queryset.db, scope=fs.scope)


def write_workbook(out, sf: ServiceFilter) -> None:
    book = xlsx.Workbook(out, SHEETS)
    write(book, sf)
    book.close()
