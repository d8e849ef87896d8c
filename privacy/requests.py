"""The personal-data request operations: register, check the requester's identity, complete, refuse.

Each is one transaction that locks the request row, checks its rules against the locked row,
raises a ValidationError a reader understands, and writes the change with its audit entry
(crm.audit, on the card, so the card's history shows it). Completing an erasure request erases
the card through the one erasure there is (closures.erasure.erase_customer) with the reason
"Privacy or erasure request" (``erasure-request``, the data subject's request); a correction is
made on the card's edit page, through the card gate (customers.gate), never here.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closures.erasure import erase_customer
from closures.models import ClosureReason
from closures.rules import ClosureChoice, who
from crm import audit
from crm.models import ERASED_MARKER
from customers.models import Customer

from .models import DataRequest

ERASURE_REASON = "erasure-request"
NOTE_MAX = 2000
LABELS = {
    "privacy.register": gettext_lazy("Personal-data request registered"),
    "privacy.identity": gettext_lazy("Requester's identity checked"),
    "privacy.complete": gettext_lazy("Personal-data request answered"),
    "privacy.refuse": gettext_lazy("Personal-data request refused"),
    "privacy.access_export": gettext_lazy("Access export generated"),
    "privacy.access_download": gettext_lazy("Access export downloaded"),
}
audit.ACTION_LABELS.update(LABELS)


def due_date(received_on: dt.date) -> dt.date:
    """The day an answer is due: ``PRIVACY_REQUEST_DAYS`` (30 by default) after it was received."""
    return received_on + dt.timedelta(days=settings.PRIVACY_REQUEST_DAYS)


def register(customer: Customer, kind: str, received_on: dt.date, notes: str, *, by, request=None) -> DataRequest:
    """Enter a request in the register, due ``PRIVACY_REQUEST_DAYS`` after it was received."""
    if kind not in DataRequest.Kind.values:
        raise ValidationError({"kind": _("Choose access, correction or erasure.")})
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": _("A request cannot be received in the future.")})
    _check_length(notes, "notes")
    with transaction.atomic():
        card = Customer.objects.select_for_update().get(pk=customer.pk)
        if card.is_erased and kind != DataRequest.Kind.ACCESS:
            raise ValidationError(_("This card has been erased; it holds no personal data to correct or erase."))
        data_request = DataRequest.objects.create(
            customer=card,
            customer_no=card.customer_no,
            kind=kind,
            received_on=received_on,
            due_on=due_date(received_on),
            notes=notes.strip(),
            registered_by=by,
        )
        record("privacy.register", data_request, by, request, notes=data_request.notes)
        return data_request


def check_identity(data_request: DataRequest, *, by, request=None) -> DataRequest:
    """Record that ``by`` checked the requester is the customer (an ID card seen, a call back...)."""
    with transaction.atomic():
        locked = _locked_open(data_request)
        if locked.identity_checked:
            raise ValidationError(
                _("%(name)s already checked the requester's identity.") % {"name": who(locked.identity_checked_by)}
            )
        locked.identity_checked_by, locked.identity_checked_at = by, timezone.now()
        locked.save(update_fields=["identity_checked_by", "identity_checked_at"])
        record("privacy.identity", locked, by, request)
        return locked


def complete(data_request: DataRequest, *, by, note: str, request=None) -> DataRequest:
    """Mark the request answered. An erasure request erases the card now (closures.erasure), in the
    same transaction: if the erasure is refused (money left to settle, ...), nothing is written."""
    _check_length(note, "note")
    with transaction.atomic():
        locked = _locked_open(data_request)
        if locked.kind in (DataRequest.Kind.ACCESS, DataRequest.Kind.ERASURE) and not locked.identity_checked:
            raise ValidationError(_("Check the requester's identity first."))
        if locked.kind == DataRequest.Kind.ERASURE:
            _erase(locked, by=by, request=request)
        return _close(locked, DataRequest.State.DONE, by, note, request, "privacy.complete")


def refuse(data_request: DataRequest, *, by, note: str, request=None) -> DataRequest:
    """Refuse the request (the identity could not be checked, a legal hold...): saying why is required."""
    if not (note or "").strip():
        raise ValidationError({"note": _("Write why the request is refused.")})
    _check_length(note, "note")
    with transaction.atomic():
        locked = _locked_open(data_request)
        return _close(locked, DataRequest.State.REFUSED, by, note, request, "privacy.refuse")


def require_identity(data_request: DataRequest) -> None:
    """An access export is generated only for an open access request whose requester was identified."""
    if data_request.kind != DataRequest.Kind.ACCESS:
        raise ValidationError(_("Only an access request has an access export."))
    if not data_request.is_open:
        raise ValidationError(_("This request has been answered already."))
    if not data_request.identity_checked:
        raise ValidationError(_("Check the requester's identity first."))


def _erase(locked: DataRequest, *, by, request) -> None:
    card = Customer.objects.get(pk=locked.customer_id)
    if card.is_erased:
        return  # erased meanwhile (from the card): the request is answered
    reason = ClosureReason.objects.filter(code=ERASURE_REASON).first()
    if reason is None:
        raise ValidationError(
            _("The closure reason “Privacy or erasure request” is missing; an Admin must restore it.")
        )
    personal = [card.name, card.phone, card.email, card.wechat, card.address]
    erase_customer(card, ClosureChoice("erase", reason), by=by, confirmation=card.customer_no, request=request)
    _forget_in_requests(locked.customer_id, personal)


def forget_values(values: list[str]) -> None:
    """An erased card's identifying values, wherever the register's notes quote them (crm.forget calls
    this in every erasure, from the card's Delete too)."""
    _forget_in(DataRequest.objects.all(), values)


def _forget_in_requests(customer_id: int, values: list[str]) -> None:
    """The register's notes may quote the customer ("called by 张伟"): erased with the card."""
    _forget_in(DataRequest.objects.filter(customer_id=customer_id), values)


def _forget_in(rows, values: list[str]) -> None:
    values = sorted({v for v in values if v and len(v) >= 2}, key=len, reverse=True)
    if not values:
        return
    for row in rows.only("pk", "notes", "outcome").iterator(chunk_size=500):
        notes, outcome = row.notes, row.outcome
        for value in values:
            notes, outcome = notes.replace(value, ERASED_MARKER), outcome.replace(value, ERASED_MARKER)
        if (notes, outcome) != (row.notes, row.outcome):
            DataRequest.objects.filter(pk=row.pk).update(notes=notes, outcome=outcome)


def _close(locked: DataRequest, state: str, by, note: str, request, action: str) -> DataRequest:
    locked.state, locked.done_by, locked.done_at, locked.outcome = state, by, timezone.now(), note.strip()
    locked.save(update_fields=["state", "done_by", "done_at", "outcome"])
    record(action, locked, by, request, notes=locked.outcome)
    return locked


def _locked_open(data_request: DataRequest) -> DataRequest:
    locked = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if not locked.is_open:
        raise ValidationError(
            _("This request was already marked %(state)s by %(name)s.")
            % {"state": locked.get_state_display().lower(), "name": who(locked.done_by)}
        )
    return locked


def record(action: str, data_request: DataRequest, by, request=None, *, notes: str = "", data: dict | None = None):
    """The audit entry of something done with a request, on its card (the export module's too)."""
    audit.record(
        action,
        actor=by,
        request=request,
        obj=data_request,
        object_type="datarequest",
        customer_id=data_request.customer_id,
        summary=data_request.customer_no,
        notes=notes,
        data={"kind": data_request.kind, "due_on": data_request.due_on.isoformat(), **(data or {})},
    )


def _check_length(text: str, field: str) -> None:
    if len(text or "") > NOTE_MAX:
        raise ValidationError({field: _("At most %(max)s characters, please.") % {"max": NOTE_MAX}})
