"""Number formatting for the dashboard; the closure list's rows."""

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from analytics.filters import DEFAULT_PERIOD
from analytics.rows import closure_rows as write_closure_rows

register = template.Library()


@register.filter
def pct(fraction, digits: int = 1) -> str:
    """0.1234 -> "12.3%"; None -> "—"."""
    if fraction is None or fraction == "":
        return "—"
    return f"{number_format(round(fraction * 100, int(digits)), int(digits))}%"


@register.filter
def signed_pct(value, digits: int = 1) -> str:
    """A change already in per cent: 12.34 -> "+12.3%"."""
    if value is None or value == "":
        return "—"
    sign = "+" if value > 0 else ""
    return f"{sign}{number_format(round(value, int(digits)), int(digits))}%"


@register.filter
def points(value) -> str:
    """A change of a rate in percentage points: 1.23 -> "+1.2 pp"."""
    if value is None or value == "":
        return "—"
    sign = "+" if value > 0 else ""
    return _("%(value)s pp") % {"value": f"{sign}{number_format(round(value, 1), 1)}"}


@register.filter
def trend_class(value) -> str:
    """CSS class for a change: more closures is bad ("up"), fewer is good ("down")."""
    if not value:
        return ""
    return "up" if value > 0 else "down"


@register.simple_tag
def closure_rows(closures):
    """The closure list's rows (analytics.rows: written in Python, a fraction of a template's cost)."""
    return write_closure_rows(closures)


@register.filter
def active_filters(fs) -> int:
    """How many filters narrow the view, a period other than the default counting as one (the phone's
    Filters button shows it). Read from the filter set's URL parameters, so a new filter counts too."""
    params = fs.params()
    params.pop("start", None)  # the dates belong to the custom period, counted once as the period
    params.pop("end", None)
    params.pop("compare", None)  # what the figures are compared with narrows nothing
    if params.get("period") == DEFAULT_PERIOD:
        del params["period"]
    return len(params)
