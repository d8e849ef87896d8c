"""The churn-warning dashboard's charts, drawn by the closure dashboard's SVG charts
(analytics/charts.py: the same markup, escaping and compact form for a phone): the customers by risk
band over time as stacked columns, each linking to this dashboard for its day, week or month; the
expected value lost by closure reason as bars, each linking to the closure list of that reason in
the period. Every chart comes with a table of the same numbers (in the panels' templates)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from . import charts
from .churn_warning import BAND_LABELS, RiskOverTime, ValueLost
from .churn_warning_filters import ChurnWarningFilter

BAND_FILLS = {"high": "#e15759", "medium": "#f28e2b", "low": "#76b7b2"}
STACK = ("high", "medium", "low")  # bottom to top: the bands that matter sit on the axis


def _page_url(cf: ChurnWarningFilter, first, last) -> str:
    query = cf.query(period="custom", start=first.isoformat(), end=last.isoformat())
    return f"{reverse('analytics:churn_warning')}?{query}"


def risk_chart(figures: RiskOverTime, cf: ChurnWarningFilter) -> charts.Trend:
    steps = figures.steps
    top = max((s.total for s in steps), default=0) or 1
    step_width = (charts.TREND_WIDTH - charts.PLOT_LEFT - 4) / max(len(steps), 1)
    bar_width = max(step_width * 0.7, 1)
    every = max(1, -(-len(steps) // 12))  # at most 12 date labels under the axis
    scale = (charts.PLOT_BOTTOM - charts.PLOT_TOP) / top
    columns = []
    for i, s in enumerate(steps):
        x = charts.PLOT_LEFT + i * step_width + (step_width - bar_width) / 2
        url = _page_url(cf, s.first, s.last)
        y = charts.PLOT_BOTTOM
        segments = []
        for band in STACK:
            n = s.counts.get(band, 0)
            if not n:
                continue
            height = n * scale
            y -= height
            segments.append(
                charts.Segment(
                    key=band,
                    label=str(BAND_LABELS[band]),
                    count=n,
                    fill=BAND_FILLS[band],
                    url=url,
                    x=round(x, 1),
                    y=round(y, 1),
                    width=round(bar_width, 1),
                    height=round(height, 1),
                )
            )
        columns.append(
            charts.Column(
                label=s.label,
                first=s.first,
                total=s.total,
                url=url,
                segments=segments,
                cells=[charts.Cell(count=s.counts.get(band, 0), url=url) for band in STACK],
                x=round(x, 1),
                label_x=round(x + bar_width / 2, 1),
                show_label=i % every == 0,
            )
        )
    legend = [{"label": str(BAND_LABELS[b]), "key": b, "fill": BAND_FILLS[b]} for b in STACK]
    ticks = [{"value": v, "y": round(charts.PLOT_BOTTOM - v * scale, 1)} for v in sorted({0, top // 2, top})]
    return charts.Trend(columns=columns, legend=legend, ticks=ticks)


def lost_chart(figures: ValueLost, cf: ChurnWarningFilter) -> charts.BarChart:
    """A bar per reason, as long as the expected value its closures lost (whole currency units)."""
    rows = figures.by_reason
    top = max((row.expected_value for row in rows), default=0) or 1
    base = reverse("analytics:closure_list")
    period = cf.dates
    dates = {"period": "custom", "end": period.last.isoformat()}
    if period.first is not None:
        dates["start"] = period.first.isoformat()
    bars = []
    for i, row in enumerate(rows):
        width = round(float(charts.BAR_SPACE * row.expected_value / top), 1)
        params = {**dates, **({} if cf.every_action else {"action": "close"})}
        if row.key is not None:
            params["reason"] = row.key
        row.url = f"{base}?{urlencode(params)}"
        bars.append(
            charts.Bar(
                label=row.label,
                retired=row.retired,
                short_label=charts.clip(row.label),
                note="",
                count=int(round(row.expected_value)),
                share=row.value_share or 0.0,
                url=row.url,
                y=i * charts.ROW + 4,
                text_y=i * charts.ROW + 4 + charts.BAR_HEIGHT - 5,
                width=width,
                value_x=charts.BAR_START + width + 6,
            )
        )
    return charts.BarChart(key="lost", bars=bars, height=max(len(bars), 1) * charts.ROW + 8)
