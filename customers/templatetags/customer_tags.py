"""Customer pages' helpers: the search results' rows, a tenure in words."""

import re

from django import template

from customers import identity
from customers.highlight import mark_part
from customers.rows import customer_rows as write_rows
from customers.since import tenure_text

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_rows(context, customers, can_bulk, unmasked):
    """The search results' rows (customers.rows: written in Python, a tenth of a template's cost)."""
    return write_rows(
        customers,
        can_bulk=bool(can_bulk),
        unmasked=bool(unmasked),
        marks_exact=bool(context.get("marks_exact")),
        marks=context.get("marks"),
    )


@register.filter(needs_autoescape=False)
def highlight(text, query) -> str:
    """``text`` escaped, each case-insensitive occurrence of ``query`` wrapped in ``<mark>``:
    ``{{ customer.name|highlight:q }}`` (customers.highlight; the search rows use it directly)."""
    pattern = re.compile(re.escape(str(query)), re.IGNORECASE) if query else None
    return mark_part(str(text or ""), pattern)


@register.filter
def tenure(since) -> str:
    """A card's tenure from its "customer since" date to today: "2 years 3 months"."""
    return tenure_text(since) if since else ""


@register.filter
def mask_id_number(value) -> str:
    """An ID document number as the card page shows it: 1101**********457X (customers.identity.mask)."""
    return identity.mask(value or "")
