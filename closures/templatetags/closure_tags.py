"""What the customer card shows about closures, loaded in a fixed number of queries.

The card page belongs to customers/, which never imports closures: it includes
closures/_card_panel.html and closures/_card_actions.html, and these load their data here.
"""

from dataclasses import dataclass

from django import template

from customers.models import Customer

from ..models import Closure, ClosureRequest
from ..rules import REINSTATABLE

register = template.Library()


@dataclass(frozen=True)
class ClosureState:
    open_closure: Closure | None
    pending: ClosureRequest | None
    my_last_request: ClosureRequest | None

    @property
    def outcome(self) -> ClosureRequest | None:
        """The viewer's last request of this card, once a Manager decided it."""
        last = self.my_last_request
        if last is None or last.state == ClosureRequest.State.PENDING:
            return None
        return last


@register.simple_tag(takes_context=True)
def closure_state(context, customer: Customer) -> ClosureState:
    """The open closure, the pending request and the viewer's last request: two queries, once per page.

    A card's status is its open closure's (closures/writes.py keeps them together), so an
    active card has no open closure to look for, and only an active card can have a pending
    request. Cached on the customer object, so the panel and the actions menu share one load.
    """
    cached = getattr(customer, "_closure_state", None)
    if cached is not None:
        return cached
    open_closure = pending = None
    if customer.status != Customer.Status.ACTIVE:
        open_closure = (
            Closure.objects.open()
            .filter(customer_id=customer.pk)
            .select_related("reason", "performed_by", "requested_by", "duplicate_of")
            .order_by("-performed_at")
            .first()
        )
    else:
        pending = (
            ClosureRequest.objects.filter(customer_id=customer.pk, state=ClosureRequest.State.PENDING)
            .select_related("reason", "requested_by")
            .first()
        )
    user = context.get("user")
    mine = None
    if user is not None and user.is_authenticated:
        mine = (
            ClosureRequest.objects.filter(customer_id=customer.pk, requested_by=user)
            .select_related("reason", "decided_by")
            .order_by("-requested_at", "-id")
            .first()
        )
    state = ClosureState(open_closure=open_closure, pending=pending, my_last_request=mine)
    customer._closure_state = state
    return state


@register.filter
def who(user) -> str:
    """A user's full name, or the username when no name is set."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def reinstatable(customer: Customer) -> bool:
    """Closed, void and archived cards can be reinstated; active and erased ones cannot."""
    return customer.status in REINSTATABLE
