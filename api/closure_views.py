"""/api/v1/closures/ and /closure-requests/: the closure flow of the pages, in one request.

The page asks in two steps (reason and notes, then the impact page with the balance and how it is
settled) and confirms with a signed preview (closures/tokens.py). The API takes both steps' fields
in one body, validates them with the same two forms (closures.forms.ClosureStartForm and
ClosureConfirmForm, so the same rules give the same messages), builds the same preview and hands
the choice to the same operation (closures.operations.confirm_closure, erasure.erase_customer),
which re-checks everything under the row lock. So:

- approval applies: when the caller's closure of this card needs a Manager, the answer is 202 with
  the ClosureRequest; otherwise 201 with the Closure;
- a retired reason, or one not meant for the action, is refused (400, on ``reason``);
- a card holding a balance or points needs the balance acknowledged: ``balance_seen`` and
  ``points_seen`` as the client saw them (the impact page's figures; a card whose money changed
  since is refused, 409 ``stale``) and how they are settled (``settlement``...), as on the page;
- a replay is harmless: with an Idempotency-Key the first answer is replayed (api.idempotency) and
  the key also becomes the confirmation's nonce (stored under a unique constraint, as the page's
  nonce is); without one, a second closure of the card is refused with "already closed by NAME at TIME".
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from django import forms
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from analytics import listing
from analytics.filters import ClosureFilter
from closures import erasure, operations, rules, settlement_form
from closures import tokens as previews
from closures.forms import ClosureConfirmForm, ClosureStartForm, ReinstateForm
from closures.models import Action, Closure, ClosureReason, ClosureRequest
from crm import scopes
from crm.routers import reporting_db
from customers.models import Customer
from customers.numbers import normalise_customer_no

from . import closure_serializers as ser
from .analytics_views import drill_down_parameters, filter_parameters
from .customer_views import card_by_number, version
from .errors import ApiError, check_form, in_both, perform
from .idempotency import HEADER, idempotent
from .pagination import ByPerformedAt, ByRequestedAt
from .schema import ERRORS, IDEMPOTENCY_KEY, READ_ERRORS
from .views import ApiView

UNKNOWN_CARD = _("No card has the customer number %(number)s.")
NO_SORT = _("The API lists the newest closures first; o (sort) is not supported.")
UNKNOWN_REASON = _("No reason has the code “%(code)s” (GET /api/v1/reasons/ lists them).")
REQUIRED = _("This field is required.")
ACKNOWLEDGE = _(
    "This card holds %(balance)s and %(points)s points: send balance_seen and points_seen as you saw them, "
    "and how they are settled."
)
REVERTED = _("This closure was already reverted; the card's current closure, if any, is another one.")
CLOSING_FIELDS = {
    "customer", "action", "reason", "notes", "duplicate_of", "merge", "open_tickets", "tickets_note",
    "balance_seen", "points_seen", "updated_at", *settlement_form.SETTLEMENT_FIELDS, "settlement_note",
}  # fmt: skip
ERASE_FIELDS = (CLOSING_FIELDS - {"customer", "action", "duplicate_of", "merge", "open_tickets", "tickets_note"}) | {
    "confirmation"
}


def _body(request, allowed: set[str]) -> dict:
    body = request.data
    if not hasattr(body, "keys"):
        raise ApiError.of("parse_error", _("The body is a JSON object."))
    unknown = sorted(set(body) - allowed)
    if unknown:
        texts = in_both(lambda: _("This field does not exist."))
        raise ApiError(
            "invalid",
            in_both(lambda: _("Some values are not valid; see fields.")),
            fields={n: [("unknown_field", texts)] for n in unknown},
        )
    return {name: ("" if value is None else value) for name, value in body.items()}


def _text(value) -> str:
    if value is True:
        return "on"
    if value is False:
        return ""
    return str(value)


def _reason(body: dict, action: str) -> ClosureReason:
    """The reason named by its code, still active and meant for ``action`` (rules.check_reason)."""
    code = str(body.get("reason") or "").strip()
    if not code:
        raise ApiError.of("required", REQUIRED, field="reason")
    reason = ClosureReason.objects.filter(code=code).first()
    if reason is None:
        raise ApiError.of("unknown_reason", UNKNOWN_REASON, field="reason", code=code)
    try:
        return rules.check_reason(reason, action)
    except forms.ValidationError as refused:
        texts = in_both(lambda: _refusal_text(reason, action))
        invalid = in_both(lambda: _("Some values are not valid; see fields."))
        raise ApiError("invalid", invalid, fields={"reason": [(refused.code, texts)]}) from None


def _refusal_text(reason, action) -> str:
    try:
        rules.check_reason(reason, action)
    except forms.ValidationError as refused:
        return refused.messages[0]
    return ""


def _refuse_unless(card: Customer, action: str) -> None:
    """The card can still take this action (the page's own check before its forms); 409 otherwise."""
    if action == Action.ERASE and not card.is_erased:
        return
    if action != Action.ERASE and card.is_active:
        return
    error = rules.not_active(card)
    raise ApiError(error.code, in_both(lambda: rules.not_active(card).messages[0]), status_code=409)


def _nonce(request) -> str:
    """The confirmation's one-time number: from the Idempotency-Key when there is one."""
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return previews.new_nonce()
    return "api-" + hashlib.sha256(f"{request.user.pk}:{key}".encode()).hexdigest()[:56]


def _seen(card: Customer, body: dict, money: bool) -> rules.Seen:
    """What the client saw: the balance it acknowledged (required when the card holds money)."""
    seen = rules.Seen.of(card)
    if body.get("updated_at"):
        seen = replace(seen, updated_at=version(str(body["updated_at"])))
    if not money:
        return seen
    missing = [name for name in ("balance_seen", "points_seen") if body.get(name) in (None, "")]
    params = {"balance": str(card.balance), "points": card.points}
    if missing:
        texts = in_both(lambda: ACKNOWLEDGE % params)
        raise ApiError(
            "balance_acknowledgement_required",
            texts,
            fields={name: [("balance_acknowledgement_required", texts)] for name in missing},
        )
    try:
        return replace(seen, balance=Decimal(str(body["balance_seen"])), points=int(body["points_seen"]))
    except (InvalidOperation, ValueError, TypeError):
        raise ApiError.of("invalid", ACKNOWLEDGE, field="balance_seen", **params) from None


def _choose(request, card: Customer, action: str, body: dict, reason: ClosureReason):
    """The ClosureChoice the page would build, and the confirmation form's cleaned data."""
    start_data = {"reason": str(reason.pk), "notes": _text(body.get("notes", ""))}
    if action == Action.VOID:
        start_data |= {"duplicate_of": _text(body.get("duplicate_of", "")), "merge": _text(body.get("merge", False))}
    start = check_form(lambda: ClosureStartForm(start_data, customer=card, action=action))
    survivor = start.cleaned_data.get("duplicate_of")
    preview = previews.Preview.new(
        card,
        action=action,
        reason_id=reason.pk,
        notes=start.cleaned_data["notes"],
        duplicate_of_id=survivor.pk if survivor else None,
        merge=start.cleaned_data.get("merge", False),
    )
    # As closures/views/flow.py asks: the money (not for a merge, whose transfer settles it), the open
    # tickets (not for a duplicate, whose tickets move, nor for a request, nor for deletion).
    money = not preview.merge and not card.is_erased and (card.balance > 0 or card.points > 0)
    tickets = bool(preview.open_tickets) and action != Action.ERASE and not preview.duplicate_of_id
    tickets = tickets and not operations.approval_needed(card, request.user)
    preview = replace(preview, seen=_seen(card, body, money), nonce=_nonce(request))
    names = ["confirmation", "open_tickets", "tickets_note", *settlement_form.SETTLEMENT_FIELDS, "settlement_note"]
    confirm_data = {"token": "api", **{n: _text(body[n]) for n in names if n in body}}
    confirm = check_form(
        lambda: ClosureConfirmForm(confirm_data, customer=card, action=action, money=money, tickets=tickets)
    )
    data = confirm.cleaned_data
    money_fields = settlement_form.settled(data) if "settlement" in data else {}
    choice = preview.choice(
        settlement_note=data.get("settlement_note") or "",
        tickets=data.get("open_tickets") or "",
        tickets_note=data.get("tickets_note") or "",
        **money_fields,
    )
    return choice, data


def closure_response(closure_id: int, status_code: int = 200) -> Response:
    closure = ser.with_related(Closure.objects, ser.CLOSURE_RELATED).get(pk=closure_id)
    return Response(ser.ClosureSerializer(closure).data, status=status_code)


def request_response(request_id: int, status_code: int = 200) -> Response:
    pending = ser.with_related(ClosureRequest.objects, ser.REQUEST_RELATED).get(pk=request_id)
    return Response(ser.ClosureRequestSerializer(pending).data, status=status_code)


class ClosureList(ApiView):
    """The closures with the dashboard's filters (GET); close, void or archive a card (POST)."""

    required_permissions = ("closures.view_closure",)
    method_permissions = {"GET": ("closures.view_analytics",), "POST": ("closures.add_closure",)}
    serializer_class = ser.ClosureSerializer
    queryset = Closure.objects.none()

    pagination_class = ByPerformedAt

    @extend_schema(
        parameters=[*filter_parameters(), *drill_down_parameters()],
        responses={200: ser.ClosureSerializer(many=True), **READ_ERRORS},
        description="The closure list's rows for the Closure analytics filters (default: the last 12 months, "
        "reverted closures left out), newest first, narrowed like the page's drill-downs when asked.",
    )
    def get(self, request):
        params = request.query_params
        if params.get("o"):
            raise ApiError.of("invalid", NO_SORT, field="o")
        narrowed, _by_service = listing.drill_down(params, using=reporting_db())
        fs = ClosureFilter(params, user=request.user, **({} if narrowed is None else {"queryset": narrowed}))
        if not fs.is_valid():
            check_form(lambda: ClosureFilter(params).form)
        page = self.paginate_queryset(ser.with_related(fs.qs, ser.CLOSURE_RELATED))
        return self.get_paginated_response(ser.ClosureSerializer(page, many=True).data)

    @extend_schema(
        request=ser.ClosureCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: ser.ClosureSerializer,
            202: OpenApiResponse(ser.ClosureRequestSerializer, description="Sent to a Manager for approval."),
            **ERRORS,
        },
        description="Close, void or archive a card, as the card's pages do (approval, balance, reasons).",
    )
    @idempotent
    def post(self, request):
        body = _body(request, CLOSING_FIELDS)
        number = str(body.get("customer") or "")
        cards = Customer.objects.visible_to(request.user)
        card = cards.filter(customer_no=normalise_customer_no(number)).first() if number else None
        if card is None:
            raise ApiError.of("not_found", UNKNOWN_CARD, field="customer", number=number)
        action = str(body.get("action") or "")
        if action not in {a for a, _label in ser.CLOSING}:
            raise ApiError.of("invalid_choice", _("Choose close, void or archive."), field="action")
        reason = _reason(body, action)
        _refuse_unless(card, action)
        choice, _data = _choose(request, card, action, body, reason)
        outcome = perform(operations.confirm_closure, card, choice, by=request.user, request=request._request)
        if isinstance(outcome, ClosureRequest):
            return request_response(outcome.pk, status.HTTP_202_ACCEPTED)
        return closure_response(outcome.pk, status.HTTP_201_CREATED)


class ClosureDetail(ApiView):
    required_permissions = ("closures.view_closure",)
    serializer_class = ser.ClosureSerializer
    queryset = Closure.objects.none()

    @extend_schema(responses={200: ser.ClosureSerializer, **READ_ERRORS})
    def get(self, request, pk: int):
        return closure_response(get_object_or_404(scopes.visible(Closure.objects.all(), request.user), pk=pk).pk)


class ClosureReinstate(ApiView):
    """The card returns to active; this closure is kept, marked reverted (closures.operations.reinstate)."""

    required_permissions = ("closures.view_closure", "closures.reinstate_closure")
    serializer_class = ser.NoteSerializer
    queryset = Closure.objects.none()

    @extend_schema(
        request=ser.NoteSerializer, parameters=[IDEMPOTENCY_KEY], responses={200: ser.ClosureSerializer, **ERRORS}
    )
    @idempotent
    def post(self, request, pk: int):
        closure = get_object_or_404(scopes.visible(Closure.objects.all(), request.user), pk=pk)
        if closure.reverted_at is not None:
            raise ApiError("already", in_both(lambda: REVERTED), status_code=409)
        body = _body(request, {"note"})
        form = check_form(lambda: ReinstateForm({"note": _text(body.get("note", ""))}))
        perform(
            operations.reinstate, closure.customer_id, by=request.user, note=form.cleaned_data["note"],
            request=request._request,
        )  # fmt: skip
        return closure_response(closure.pk)


class CustomerErase(ApiView):
    """Delete the card's personal data, irreversibly (closures.erasure.erase_customer; Admins only)."""

    required_permissions = ("closures.add_closure", "closures.erase_customer")
    serializer_class = ser.EraseSerializer
    queryset = Customer.objects.none()

    @extend_schema(
        request=ser.EraseSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ser.ClosureSerializer, **ERRORS},
        description="As the page asks: a reason meant for deletion, and the customer number typed as confirmation.",
    )
    @idempotent
    def post(self, request, customer_no: str):
        card = card_by_number(customer_no, request.user)
        body = _body(request, ERASE_FIELDS)
        reason = _reason(body, Action.ERASE)
        _refuse_unless(card, Action.ERASE)
        if not str(body.get("confirmation") or ""):
            raise ApiError.of("required", REQUIRED, field="confirmation")
        choice, data = _choose(request, card, Action.ERASE, body, reason)
        closure = perform(
            erasure.erase_customer, card, choice, by=request.user, confirmation=data["confirmation"],
            request=request._request,
        )  # fmt: skip
        return closure_response(closure.pk, status.HTTP_201_CREATED)


class RequestList(ApiView):
    """Closure requests, pending ones by default (``state``), newest first."""

    required_permissions = ("closures.view_closurerequest",)
    serializer_class = ser.ClosureRequestSerializer
    queryset = ClosureRequest.objects.none()

    pagination_class = ByRequestedAt

    @extend_schema(responses={200: ser.ClosureRequestSerializer(many=True), **READ_ERRORS})
    def get(self, request):
        state = request.query_params.get("state") or ClosureRequest.State.PENDING
        if state not in ClosureRequest.State.values:
            raise ApiError.of("invalid_choice", _("Choose pending, approved, rejected or withdrawn."), field="state")
        rows = ser.with_related(
            scopes.visible(ClosureRequest.objects.filter(state=state), request.user), ser.REQUEST_RELATED
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ser.ClosureRequestSerializer(page, many=True).data)


class RequestDecision(ApiView):
    """Approve (the closure is performed now) or reject (with a note the requester sees) a pending request."""

    required_permissions = ("closures.view_closurerequest", "closures.decide_closurerequest")
    serializer_class = ser.NoteSerializer
    queryset = ClosureRequest.objects.none()
    approving = True

    @extend_schema(
        request=ser.NoteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: ser.ClosureRequestSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request, pk: int):
        pending = get_object_or_404(scopes.visible(ClosureRequest.objects.all(), request.user), pk=pk)
        note = _text(_body(request, {"note"}).get("note", ""))
        decide = operations.approve if self.approving else operations.reject
        perform(decide, pending.pk, by=request.user, note=note, request=request._request)
        return request_response(pending.pk)


class RequestReject(RequestDecision):
    approving = False


class RequestWithdraw(ApiView):
    """The requester takes back their own pending request (the card stays as it is), as "My requests" does."""

    required_permissions = ("closures.add_closure",)
    serializer_class = ser.NoteSerializer
    queryset = ClosureRequest.objects.none()

    @extend_schema(
        request=ser.NoteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: ser.ClosureRequestSerializer, **ERRORS},
        description="Only the request's requester may withdraw it, and only while it is pending (else 403 or 409).",
    )
    @idempotent
    def post(self, request, pk: int):
        pending = get_object_or_404(scopes.visible(ClosureRequest.objects.all(), request.user), pk=pk)
        note = _text(_body(request, {"note"}).get("note", ""))
        perform(operations.withdraw, pending.pk, by=request.user, note=note, request=request._request)
        return request_response(pending.pk)
