"""The Excel export's follow-up sheets: the dashboard's follow-up panels (analytics/followups.py) as
four tables, headers in the exporter's language or machine names like the Closures sheet.

- "Follow-up activity": surveys sent and answered, callbacks on time, late, not done, upcoming, by
  month, owner and stated reason, and in all;
- "Reason matrix": the stated reason (rows) against the customer's own reason (columns), with
  each row's answers and agreement, and a last row for every answer;
- "Satisfaction": CSAT and NPS by closure reason and by reason category, and in all;
- "Win-back": reinstatements after a follow-up by reason and by the last follow-up's kind, with the
  median days from closure to return, and in all.

With machine names the group columns hold keys (month as YYYY-MM, reason codes, follow-up kinds,
owner user names) instead of labels, so an integration can join them.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import xlsx

from . import followups as followup_figures

ACTIVITY_SHEET, MATRIX_SHEET, SATISFACTION_SHEET, WINBACK_SHEET = (
    "Follow-up activity",
    "Reason matrix",
    "Satisfaction",
    "Win-back",
)
SHEETS = [ACTIVITY_SHEET, MATRIX_SHEET, SATISFACTION_SHEET, WINBACK_SHEET]

ACTIVITY_COLUMNS = [
    (_("Grouped by"), "dimension", 10),
    (_("Group"), "group", 26),
    (_("Surveys sent"), "surveys_sent", 10),
    (_("Answered"), "surveys_answered", 10),
    (_("Response rate"), "response_rate", 10),
    (_("Callbacks on time"), "callbacks_on_time", 10),
    (_("Late"), "callbacks_late", 10),
    (_("Not done"), "callbacks_not_done", 10),
    (_("Completion"), "callback_completion", 10),
    (_("Upcoming"), "callbacks_upcoming", 10),
]
SATISFACTION_COLUMNS = [
    (_("Grouped by"), "dimension", 10),
    (_("Group"), "group", 26),
    (_("Answers"), "answers", 10),
    (_("CSAT (mean of 1–5)"), "csat_mean", 10),
    (_("Satisfied (4–5)"), "satisfied_share", 10),
    (_("NPS"), "nps", 8),
    (_("Promoters (9–10)"), "promoters", 10),
    (_("Passives (7–8)"), "passives", 10),
    (_("Detractors (0–6)"), "detractors", 10),
]
WINBACK_COLUMNS = [
    (_("Grouped by"), "dimension", 10),
    (_("Group"), "group", 26),
    (_("Reinstated after a follow-up"), "reinstated_after_followup", 12),
    (_("Median days to return"), "median_days", 10),
]
DIMENSIONS = {
    "month": _("Month"),
    "owner": _("Owner"),
    "reason": _("Reason"),
    "category": _("Category"),
    "kind": _("Follow-up"),
    "all": _("All"),
}


def _header(sheet, columns, machine: bool) -> None:
    sheet.append([name if machine else str(header) for header, name, _w in columns], style=xlsx.BOLD)


def _dimension(key: str, machine: bool) -> str:
    return key if machine else str(DIMENSIONS[key])


def _activity_sheet(book, figures, machine: bool, keys) -> None:
    sheet = book.add_sheet(ACTIVITY_SHEET, widths=[w for _h, _n, w in ACTIVITY_COLUMNS], freeze_header=True)
    _header(sheet, ACTIVITY_COLUMNS, machine)
    groups = [("month", figures.by_month), ("owner", figures.by_owner), ("reason", figures.by_reason)]
    groups.append(("all", [figures.activity_total]))
    style = [None, None, None, None, xlsx.PERCENT, None, None, None, xlsx.PERCENT]
    for dimension, rows in groups:
        for a in rows:
            group = keys(dimension, a) if machine else a.label
            values = [_dimension(dimension, machine), group, a.sent, a.answered, a.response_rate]
            values += [a.on_time, a.late, a.not_done, a.completion, a.upcoming]
            sheet.append(values, style=style)
    sheet.close(autofilter=True)


def _matrix_sheet(book, figures, machine: bool, keys) -> None:
    m = figures.matrix
    sheet = book.add_sheet(MATRIX_SHEET, widths=[26] + [12] * (len(m.columns) + 2), freeze_header=True)
    header = ["stated_reason" if machine else gettext("Stated reason ↓ / the customer's reason →")]
    for c in m.columns:
        header.append(keys("own", c.key) if machine else c.label)
    header += ["answers", "agreement"] if machine else [gettext("Answers"), gettext("Agreement")]
    sheet.append(header, style=xlsx.BOLD)
    style = [None] * (len(m.columns) + 2) + [xlsx.PERCENT]
    for row in m.rows:
        label = keys("reason", row.reason_id) if machine else row.label
        sheet.append([label, *(c.count for c in row.cells), row.total, row.agreement], style=style)
    totals = [sum(row.cells[i].count for row in m.rows) for i in range(len(m.columns))]
    everyone = "all" if machine else gettext("All answers")
    sheet.append([everyone, *totals, m.answers, m.agreement], style=style)
    sheet.close()


def _satisfaction_sheet(book, figures, machine: bool, keys) -> None:
    sheet = book.add_sheet(SATISFACTION_SHEET, widths=[w for _h, _n, w in SATISFACTION_COLUMNS], freeze_header=True)
    _header(sheet, SATISFACTION_COLUMNS, machine)
    groups = [("reason", figures.satisfaction_by_reason), ("category", figures.satisfaction_by_category)]
    groups.append(("all", [figures.satisfaction_total]))
    style = [None, None, None, None, xlsx.PERCENT]
    for dimension, rows in groups:
        for s in rows:
            group = keys(dimension, s) if machine else s.label
            csat = None if s.csat is None else round(s.csat, 2)
            nps = None if s.nps is None else round(s.nps, 1)
            values = [_dimension(dimension, machine), group, s.answers, csat, s.satisfied_share, nps]
            sheet.append(values + [s.promoters, s.passives, s.detractors], style=style)
    sheet.close(autofilter=True)


def _winback_sheet(book, figures, machine: bool, keys) -> None:
    w = figures.winback
    sheet = book.add_sheet(WINBACK_SHEET, widths=[width for _h, _n, width in WINBACK_COLUMNS], freeze_header=True)
    _header(sheet, WINBACK_COLUMNS, machine)
    for dimension, rows in (("reason", w.by_reason), ("kind", w.by_kind), ("all", [w.overall])):
        for r in rows:
            group = keys(dimension, r) if machine else r.label
            days = None if r.median_days is None else round(r.median_days, 1)
            sheet.append([_dimension(dimension, machine), group, r.count, days])
    sheet.append([])
    sheet.append([gettext("Cards reinstated in the period"), w.reinstated])
    sheet.close()


def _machine_keys(figures, owners: dict):
    codes = figures.labels.codes if figures.labels else {}

    def keys(dimension, item):
        key = getattr(item, "key", item)
        if dimension == "month":
            return f"{key // 12:04d}-{key % 12 + 1:02d}"
        if dimension == "owner":
            return owners.get(key, "")
        if dimension in ("reason", "own"):
            return codes.get(int(key), str(key)) if str(key).isdigit() else str(key)
        return "" if dimension == "all" else str(key)

    return keys


def write(book: xlsx.Workbook, fs, *, machine: bool = False) -> None:
    """Add the four follow-up sheets (declared in ``SHEETS``) to ``book``."""
    figures = followup_figures.compute(fs)
    owners = {}
    if machine:
        ids = [a.key for a in figures.by_owner if a.key is not None]
        owners = dict(get_user_model().objects.using(fs.queryset.db).filter(pk__in=ids).values_list("pk", "username"))
    keys = _machine_keys(figures, owners)
    _activity_sheet(book, figures, machine, keys)
    _matrix_sheet(book, figures, machine, keys)
    _satisfaction_sheet(book, figures, machine, keys)
    _winback_sheet(book, figures, machine, keys)
