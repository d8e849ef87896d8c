"""Closure requests for the inbox, withdrawal and batch tests: made through the operation, as the
card's "Confirm" makes them when approval applies."""

from closures import operations
from closures.models import ClosureRequest
from closures.rules import ClosureChoice
from tests.factories import CustomerFactory

from .steps import reason


def ask(by, customer=None, *, notes: str = "客户要求销卡") -> ClosureRequest:
    """``by`` asks a Manager to close ``customer`` (a new card when None)."""
    customer = customer or CustomerFactory()
    return operations.request_closure(customer, ClosureChoice("close", reason("customer-request"), notes=notes), by=by)


def header_count(html: str) -> int | None:
    """The number the header's inbox link carries (None when the page has no inbox link)."""
    marker = 'data-inbox-count="'
    if marker not in html:
        return None
    start = html.index(marker) + len(marker)
    return int(html[start : html.index('"', start)])
