"""Server-rendered SVG charts: geometry computed here, markup in templates/analytics/_*.html.

No JavaScript and no style attributes (the Content-Security-Policy forbids both): shapes
carry SVG presentation attributes (fill=) and CSS classes. Every bar links to the closure
list filtered to its slice, and every chart comes with a table of the same numbers.

The charts' plots and tables (the monthly trend: 12 to 120 months times up to 11 categories;
six bar charts of up to 45 bars; a link, a title and a shape each) are written here by
:func:`trend_markup` and :func:`bar_markup`, every text through ``escape``: through the
template they cost about 35 ms of a 60 ms page. Headings and captions stay in the templates.

Each plot also comes in a compact form for a phone's width (``compact_markup``; the CSS shows one
or the other): an SVG scales to its container, and the 640-unit bar chart or the 960-unit trend
shrunk to a phone's 350 px would write its labels at 4 to 6 px. The compact bar chart writes each
label above its bar, across the whole width; the compact trend is narrower, with fewer month labels.
"""

import calendar
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from .figures import Figures, Slice
from .filters import ClosureFilter
from .templatetags.analytics_tags import pct

WIDTH = 640
LABEL_END = 200  # labels are right-aligned to this x
BAR_START = 208
BAR_SPACE = 330  # longest bar; the count and share follow it
ROW = 26
BAR_HEIGHT = 18

CATEGORY_FILLS = {
    "competitor": "#4e79a7",
    "price": "#f28e2b",
    "service": "#e15759",
    "product": "#76b7b2",
    "moved": "#59a14f",
    "deceased": "#9c755f",
    "inactivity": "#edc948",
    "duplicate": "#b07aa1",
    "data_error": "#ff9da7",
    "customer_request": "#17becf",
    "other": "#8c8c8c",
}
BAR_FILL = "#1d5fbf"

# The compact bar chart: a label line above each bar, the bar and its value below.
COMPACT_WIDTH = 360
COMPACT_BAR_SPACE = 250
COMPACT_ROW = 38
COMPACT_BAR_HEIGHT = 14


def clip(text: str, width: int = 26) -> str:
    """Shorten a label to about ``width`` columns (Chinese characters count double)."""
    used, out = 0, []
    for ch in text:
        used += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used > width:
            return "".join(out).rstrip() + "…"
        out.append(ch)
    return text


@dataclass
class Bar:
    label: str
    retired: bool
    short_label: str
    note: str
    count: int
    share: float
    url: str
    y: int
    text_y: int
    width: float
    value_x: float


@dataclass
class BarChart:
    key: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    label_end: int = LABEL_END
    bar_start: int = BAR_START
    fill: str = BAR_FILL
    show_note: bool = False
    compact_width: int = COMPACT_WIDTH

    @property
    def plot_markup(self) -> SafeString:
        return bar_markup(self)[0]

    @property
    def table_markup(self) -> SafeString:
        return bar_markup(self)[1]

    @property
    def compact_height(self) -> int:
        return max(len(self.bars), 1) * COMPACT_ROW + 4

    @property
    def compact_markup(self) -> SafeString:
        return compact_bar_markup(self)


def compact_bar_markup(chart: BarChart) -> SafeString:
    """The bar chart's SVG body for a phone: each label on its own line above its bar."""
    cached = getattr(chart, "_compact", None)
    if cached is not None:
        return cached
    retired = escape(gettext("(retired)"))
    svg = []
    for i, bar in enumerate(chart.bars):
        top = i * COMPACT_ROW
        width = round(bar.width * COMPACT_BAR_SPACE / BAR_SPACE, 1)
        share, mark = escape(pct(bar.share)), f" {retired}" if bar.retired else ""
        svg.append(
            f'<a href="{escape(bar.url)}" tabindex="-1"><title>{escape(bar.label)}{mark}: {bar.count} ({share})</title>'
            f'<text x="0" y="{top + 13}">{escape(clip(bar.label, 50))}</text>'
            f'<rect class="bar" x="0" y="{top + 18}" width="{width}" height="{COMPACT_BAR_HEIGHT}" '
            f'fill="{escape(chart.fill)}"></rect>'
            f'<text class="value" x="{width + 6}" y="{top + 30}">{bar.count} · {share}</text></a>'
        )
    chart._compact = mark_safe("".join(svg))  # noqa: S308 (every text escaped above)
    return chart._compact


def bar_markup(chart: BarChart) -> tuple[SafeString, SafeString]:
    """A bar chart's SVG body (a linked, titled bar per slice) and its table's rows, every text escaped."""
    cached = getattr(chart, "_markup", None)
    if cached is not None:
        return cached
    retired = escape(gettext("(retired)"))
    svg, rows = [], []
    for bar in chart.bars:
        url, label, share = escape(bar.url), escape(bar.label), escape(pct(bar.share))
        mark = f" {retired}" if bar.retired else ""
        svg.append(
            f'<a href="{url}" tabindex="-1"><title>{label}{mark}: {bar.count} ({share})</title>'
            f'<text x="{chart.label_end}" y="{bar.text_y}" text-anchor="end">{escape(bar.short_label)}</text>'
            f'<rect class="bar" x="{chart.bar_start}" y="{bar.y}" width="{bar.width}" height="18" '
            f'fill="{escape(chart.fill)}"></rect>'
            f'<text class="value" x="{bar.value_x}" y="{bar.text_y}">{bar.count} · {share}</text></a>'
        )
        note = f"<td>{escape(bar.note)}</td>" if chart.show_note else ""
        retired_note = f' <span class="muted">{retired}</span>' if bar.retired else ""
        rows.append(
            f'<tr><th scope="row"><a href="{url}">{label}</a>{retired_note}</th>{note}'
            f'<td class="num"><a href="{url}">{bar.count}</a></td><td class="num">{share}</td></tr>'
        )
    chart._markup = (mark_safe("".join(svg)), mark_safe("".join(rows)))  # noqa: S308 (every text escaped above)
    return chart._markup


def list_url(fs: ClosureFilter, **overrides) -> str:
    """The closure list filtered like ``fs`` with some filters replaced (one link per bar)."""
    base = getattr(fs, "_list_path", None)
    if base is None:
        base = fs._list_path = reverse("analytics:closure_list")
    return f"{base}?{fs.query(**overrides)}"


def bar_chart(key: str, slices: list[Slice], fs: ClosureFilter, *, show_note=False) -> BarChart:
    top = max((s.count for s in slices), default=0) or 1
    bars = []
    for i, s in enumerate(slices):
        width = round(BAR_SPACE * s.count / top, 1)
        bars.append(
            Bar(
                label=s.label,
                retired=s.retired,
                short_label=clip(s.label),
                note=s.note,
                count=s.count,
                share=s.share,
                url=list_url(fs, **s.params),
                y=i * ROW + 4,
                text_y=i * ROW + 4 + BAR_HEIGHT - 5,
                width=width,
                value_x=BAR_START + width + 6,
            )
        )
    return BarChart(key=key, bars=bars, height=max(len(bars), 1) * ROW + 8, show_note=show_note)


# --- the monthly trend, stacked by category ------------------------------------------------
TREND_WIDTH, PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM, TREND_HEIGHT = 960, 44, 12, 222, 250
COMPACT_TREND_WIDTH, COMPACT_PLOT_LEFT, COMPACT_MONTH_LABELS = 420, 30, 5


@dataclass
class Segment:
    key: str
    label: str
    count: int
    fill: str
    url: str
    x: float
    y: float
    width: float
    height: float


@dataclass
class Cell:
    count: int
    url: str


@dataclass
class Column:
    label: str
    first: date
    total: int
    url: str
    segments: list[Segment]
    cells: list[Cell]
    x: float
    label_x: float
    show_label: bool


@dataclass
class Trend:
    columns: list[Column]
    legend: list[dict]
    ticks: list[dict]
    width: int = TREND_WIDTH
    height: int = TREND_HEIGHT
    plot_left: int = PLOT_LEFT
    plot_bottom: int = PLOT_BOTTOM
    label_y: int = PLOT_BOTTOM + 16
    totals: list[int] = field(default_factory=list)
    compact_width: int = COMPACT_TREND_WIDTH

    @property
    def plot_markup(self) -> SafeString:
        return trend_markup(self)[0]

    @property
    def table_markup(self) -> SafeString:
        return trend_markup(self)[1]

    @property
    def compact_markup(self) -> SafeString:
        return compact_trend_markup(self)


def compact_trend_markup(trend: Trend) -> SafeString:
    """The trend's SVG body for a phone: the same stacks on a narrower plot, at most five month labels.

    The vertical geometry is the wide chart's; each column's x is recomputed for the narrower plot.
    """
    cached = getattr(trend, "_compact", None)
    if cached is not None:
        return cached
    left, width = COMPACT_PLOT_LEFT, COMPACT_TREND_WIDTH
    svg = [
        f'<line class="grid" x1="{left}" x2="{width}" y1="{tick["y"]}" y2="{tick["y"]}" stroke="#d9dee5"></line>'
        f'<text x="{left - 4}" y="{tick["y"]}" text-anchor="end" dominant-baseline="middle">{tick["value"]}</text>'
        for tick in trend.ticks
    ]
    count = len(trend.columns)
    step = (width - left - 4) / max(count, 1)
    bar_width = round(max(step * 0.7, 1), 1)
    every = max(1, -(-count // COMPACT_MONTH_LABELS))
    for i, column in enumerate(trend.columns):
        x = round(left + i * step + (step - bar_width) / 2, 1)
        month = escape(column.label)
        for s in column.segments:
            svg.append(
                f'<a href="{escape(s.url)}" tabindex="-1"><title>{month} · {escape(s.label)}: {s.count}</title>'
                f'<rect class="segment cat-{escape(s.key)}" x="{x}" y="{s.y}" width="{bar_width}" '
                f'height="{s.height}" fill="{escape(s.fill)}"></rect></a>'
            )
        if i % every == 0:
            svg.append(
                f'<text x="{round(x + bar_width / 2, 1)}" y="{trend.label_y}" text-anchor="middle">{month}</text>'
            )
    trend._compact = mark_safe("".join(svg))  # noqa: S308 (every text escaped above)
    return trend._compact


def trend_markup(trend: Trend) -> tuple[SafeString, SafeString]:
    """The trend's SVG body (grid, stacked segments, month labels) and its table's rows.

    Numbers are written unlocalised in the SVG (coordinates) and as plain integers in the
    table, as the template did; every label and URL is escaped.
    """
    cached = getattr(trend, "_markup", None)
    if cached is not None:
        return cached
    svg = []
    for tick in trend.ticks:
        svg.append(
            f'<line class="grid" x1="{trend.plot_left}" x2="{trend.width}" y1="{tick["y"]}" y2="{tick["y"]}" '
            f'stroke="#d9dee5"></line><text x="{trend.plot_left - 6}" y="{tick["y"]}" text-anchor="end" '
            f'dominant-baseline="middle">{tick["value"]}</text>'
        )
    rows = []
    for column in trend.columns:
        month = escape(column.label)
        for s in column.segments:
            svg.append(
                f'<a href="{escape(s.url)}" tabindex="-1"><title>{month} · {escape(s.label)}: {s.count}</title>'
                f'<rect class="segment cat-{escape(s.key)}" x="{s.x}" y="{s.y}" width="{s.width}" '
                f'height="{s.height}" fill="{escape(s.fill)}"></rect></a>'
            )
        if column.show_label:
            svg.append(f'<text x="{column.label_x}" y="{trend.label_y}" text-anchor="middle">{month}</text>')
        cells = "".join(
            f'<td class="num"><a href="{escape(c.url)}">{c.count}</a></td>' if c.count else '<td class="num">0</td>'
            for c in column.cells
        )
        total = f'<a href="{escape(column.url)}">{column.total}</a>' if column.total else "0"
        rows.append(
            f'<tr><th scope="row"><a href="{escape(column.url)}">{month}</a></th>{cells}'
            f'<td class="num">{total}</td></tr>'
        )
    trend._markup = (mark_safe("".join(svg)), mark_safe("".join(rows)))  # noqa: S308 (every text escaped above)
    return trend._markup


def _month_params(first: date, figures: Figures) -> dict:
    last = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
    period = figures.period
    start = max(first, period.first) if period.first else first
    return {"period": "custom", "start": start.isoformat(), "end": min(last, period.last).isoformat()}


def trend_chart(figures: Figures, fs: ClosureFilter) -> Trend:
    months = figures.months
    categories = figures.trend_categories
    top = max((m.total for m in months), default=0) or 1
    step = (TREND_WIDTH - PLOT_LEFT - 4) / max(len(months), 1)
    bar_width = max(step * 0.7, 1)
    every = max(1, -(-len(months) // 16))  # at most 16 month labels under the axis
    scale = (PLOT_BOTTOM - PLOT_TOP) / top
    columns = []
    for i, month in enumerate(months):
        x = PLOT_LEFT + i * step + (step - bar_width) / 2
        month_params = _month_params(month.first, figures)
        y = PLOT_BOTTOM
        segments, cells = [], []
        for category in categories:
            n = month.counts.get(category.key, 0)
            url = list_url(fs, category=category.key, **month_params)
            cells.append(Cell(count=n, url=url))
            if not n:
                continue
            height = n * scale
            y -= height
            segments.append(
                Segment(
                    key=category.key,
                    label=category.label,
                    count=n,
                    fill=CATEGORY_FILLS.get(category.key, BAR_FILL),
                    url=url,
                    x=round(x, 1),
                    y=round(y, 1),
                    width=round(bar_width, 1),
                    height=round(height, 1),
                )
            )
        columns.append(
            Column(
                label=date_format(month.first, "YEAR_MONTH_FORMAT"),
                first=month.first,
                total=month.total,
                url=list_url(fs, **month_params),
                segments=segments,
                cells=cells,
                x=round(x, 1),
                label_x=round(x + bar_width / 2, 1),
                show_label=i % every == 0,
            )
        )
    legend = [
        {"label": c.label, "key": c.key, "fill": CATEGORY_FILLS.get(c.key, BAR_FILL), "count": c.count}
        for c in categories
    ]
    ticks = [{"value": v, "y": round(PLOT_BOTTOM - v * scale, 1)} for v in sorted({0, top // 2, top})]
    return Trend(
        columns=columns,
        legend=legend,
        ticks=ticks,
        totals=[c.count for c in categories],
    )


def build(figures: Figures, fs: ClosureFilter) -> dict:
    """Every chart of the dashboard, keyed by name (titles are in the template)."""
    return {
        "reasons": bar_chart("reasons", figures.by_reason, fs, show_note=True),
        "categories": bar_chart("categories", figures.by_category, fs),
        "staff": bar_chart("staff", figures.by_staff, fs),
        "segments": bar_chart("segments", figures.by_segment, fs),
        "tenure": bar_chart("tenure", figures.by_tenure, fs),
        "actions": bar_chart("actions", figures.by_action, fs),
        "trend": trend_chart(figures, fs),
    }
