"""What the customer card shows about closures, loaded in a fixed number of queries.

The card page belongs to customers/, which never imports closures: it includes
closures/_card_panel.html and closures/_card_actions.html, and these load their data here.
"""

from dataclasses import dataclass

from django import template
from django.db.models import Q

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
    """The open closure, the pending request and the viewer's last request, once per page.

    A card's status is its open closure's (closures/writes.py keeps them together), so an
    active card has no open closure to look for, and only an active card can have a pending
    request (at most one: a constraint). For an active card the pending request and the
    viewer's requests are read together, newest first (one query: the viewer's requests of
    one card are a handful); for another card the open closure is one query and the viewer's
    last request another. Cached on the customer object, so the panel and the actions menu
    share one load.
    """
    cached = getattr(customer, "_closure_state", None)
    if cached is not None:
        return cached
    user = context.get("user")
    viewer = user if user is not None and user.is_authenticated else None
    requests = ClosureRequest.objects.filter(customer_id=customer.pk).order_by("-requested_at", "-id")
    open_closure = pending = mine = None
    if customer.status != Customer.Status.ACTIVE:
        open_closure = (
            Closure.objects.open()
            .filter(customer_id=customer.pk)
            .select_related("reason", "performed_by", "requested_by", "duplicate_of")
            .order_by("-performed_at")
            .first()
        )
        if viewer is not None:
            mine = requests.filter(requested_by=viewer).select_related("reason", "decided_by").first()
    else:
        condition = Q(state=ClosureRequest.State.PENDING)
        if viewer is not None:
            condition |= Q(requested_by=viewer)
        for request in requests.filter(condition).select_related("reason", "requested_by", "decided_by"):
            if pending is None and request.state == ClosureRequest.State.PENDING:
                pending = request
            if mine is None and viewer is not None and request.requested_by_id == viewer.pk:
                mine = request
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
