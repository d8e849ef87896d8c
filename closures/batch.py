"""Deciding several closure requests at once: the approval queue's "Approve" and "Reject" for the
ticked requests, with one note.

Each request is decided by ``operations.approve`` or ``operations.reject`` — the one copy of the
rules — in its own transaction, so one refusal (the card's balance changed since the request, the
Manager's own request, a request someone decided meanwhile) leaves the others decided; the result
lists both, the refused ones with the reason a single decision would have given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm import scopes

from . import operations
from .models import ClosureRequest

BATCH_LIMIT = 200  # the queue shows 50 a page; a page's "select all" is well inside


@dataclass
class BatchResult:
    """What a batch decision did: the requests decided, and each one refused with why."""

    approving: bool
    decided: list[ClosureRequest] = field(default_factory=list)
    refused: list[tuple[ClosureRequest, str]] = field(default_factory=list)


def decide_many(ids: Iterable[int], *, by, approving: bool, note: str = "", request=None) -> BatchResult:
    """Approve (``approving``) or reject the requests ``ids``, oldest first, each on its own.

    Requests that do not exist, or whose card is outside ``by``'s data scope, are left out; more than
    ``BATCH_LIMIT`` are refused as a whole.
    """
    ids = list(dict.fromkeys(int(pk) for pk in ids))
    if len(ids) > BATCH_LIMIT:
        raise ValidationError(_("Decide at most %(limit)s requests at once.") % {"limit": BATCH_LIMIT}, code="too_many")
    related = ("customer", "reason", "requested_by")
    chosen = scopes.visible(ClosureRequest.objects.filter(pk__in=ids), by)
    chosen = list(chosen.select_related(*related).order_by("requested_at", "id"))
    result = BatchResult(approving=approving)
    decide = operations.approve if approving else operations.reject
    for closure_request in chosen:
        try:
            decide(closure_request.pk, by=by, note=note, request=request)
        except ValidationError as exc:
            result.refused.append((closure_request, " ".join(exc.messages)))
        else:
            result.decided.append(closure_request)
    return result
