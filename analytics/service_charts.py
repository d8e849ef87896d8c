"""The service dashboard's charts, drawn by the closure dashboard's SVG charts (analytics/charts.py:
the same markup, escaping and compact form for a phone): a bar per category, channel, team and
priority, and columns over time for tickets opened and for the backlog. Every bar and column links
to the ticket queue with the filters that select its tickets."""

from __future__ import annotations

from . import charts
from .service import Group, ServiceFigures, hours
from .service_filters import ServiceFilter
from .service_links import opened_params, queue_url

OPENED_FILL, BACKLOG_FILL = "#1d5fbf", "#e15759"


def bar_chart(key: str, groups: list[Group], sf: ServiceFilter) -> charts.BarChart:
    top = max((g.counts.opened for g in groups), default=0) or 1
    bars = []
    for i, g in enumerate(groups):
        width = round(charts.BAR_SPACE * g.counts.opened / top, 1)
        g.url = queue_url(**opened_params(sf, **g.param))
        bars.append(
            charts.Bar(
                label=g.label,
                retired=False,
                short_label=charts.clip(g.label),
                note="",
                count=g.counts.opened,
                share=g.share,
                url=g.url,
                y=i * charts.ROW + 4,
                text_y=i * charts.ROW + 4 + charts.BAR_HEIGHT - 5,
                width=width,
                value_x=charts.BAR_START + width + 6,
            )
        )
    return charts.BarChart(key=key, bars=bars, height=max(len(bars), 1) * charts.ROW + 8)


def columns_chart(figures: ServiceFigures, sf: ServiceFilter, attr: str, label: str, fill: str) -> charts.Trend:
    """One series over the period's months or weeks, as the trend chart's columns."""
    steps = figures.steps
    top = max((max(getattr(s, attr), 0) for s in steps), default=0) or 1
    step_width = (charts.TREND_WIDTH - charts.PLOT_LEFT - 4) / max(len(steps), 1)
    bar_width = max(step_width * 0.7, 1)
    every = max(1, -(-len(steps) // 16))
    scale = (charts.PLOT_BOTTOM - charts.PLOT_TOP) / top
    columns = []
    for i, s in enumerate(steps):
        x = charts.PLOT_LEFT + i * step_width + (step_width - bar_width) / 2
        value = max(getattr(s, attr), 0)
        dates = {"opened_from": s.first.isoformat(), "opened_to": s.last.isoformat()}
        if attr == "backlog":  # what was still open at the step's end: opened by then
            dates = {"opened_to": s.last.isoformat(), "opened_from": ""}
        url = queue_url(**opened_params(sf, **dates))
        height = value * scale
        segments = []
        if value:
            segments.append(
                charts.Segment(
                    key=attr,
                    label=label,
                    count=value,
                    fill=fill,
                    url=url,
                    x=round(x, 1),
                    y=round(charts.PLOT_BOTTOM - height, 1),
                    width=round(bar_width, 1),
                    height=round(height, 1),
                )
            )
        columns.append(
            charts.Column(
                label=s.label,
                first=s.first,
                total=value,
                url=url,
                segments=segments,
                cells=[charts.Cell(count=value, url=url)],
                x=round(x, 1),
                label_x=round(x + bar_width / 2, 1),
                show_label=i % every == 0,
            )
        )
    ticks = [{"value": v, "y": round(charts.PLOT_BOTTOM - v * scale, 1)} for v in sorted({0, top // 2, top})]
    legend = [{"label": label, "key": attr, "fill": fill, "count": sum(c.total for c in columns)}]
    return charts.Trend(columns=columns, legend=legend, ticks=ticks, totals=[])


def context(figures: ServiceFigures, sf: ServiceFilter, *, opened_label: str, backlog_label: str) -> dict:
    """The dashboard's template context: the figures, their charts, the times in working hours."""
    times = figures.times
    return {
        "filter": sf,
        "figures": figures,
        "query": sf.query(),
        "charts": build(figures, sf, opened_label=opened_label, backlog_label=backlog_label),
        "first_response": (hours(times.fr_median), hours(times.fr_p90)),
        "resolution": (hours(times.res_median), hours(times.res_p90)),
        "queue_all": queue_url(**opened_params(sf)),
    }


def build(figures: ServiceFigures, sf: ServiceFilter, *, opened_label: str, backlog_label: str) -> dict:
    return {
        "categories": bar_chart("categories", figures.by_category, sf),
        "channels": bar_chart("channels", figures.by_channel, sf),
        "teams": bar_chart("teams", figures.by_team, sf),
        "priorities": bar_chart("priorities", figures.by_priority, sf),
        "opened": columns_chart(figures, sf, "opened", opened_label, OPENED_FILL),
        "backlog": columns_chart(figures, sf, "backlog", backlog_label, BACKLOG_FILL),
    }
