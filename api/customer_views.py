"""/api/v1/customers/: search, read, create and change customer cards.

- The search takes the search page's URL parameters (``q`` and the advanced filters) and means what
  the page means (customers.filters.found_newest_first: name including 1–2 Chinese characters, phone,
  last digits, number; active cards only unless ``status`` says otherwise), newest card first,
  cursor-paginated on the id (api.pagination). The page's "exact matches first" ranking and its
  ``o`` sort are not offered: a cursor needs one fixed order.
- A card is addressed by its customer number (``/customers/C000123/``), the identifier every other
  system already knows; typed in any case or full-width, it is read in its canonical form.
- Writes go through the card page's form (customers.forms.CustomerForm: the same validation and
  messages) and the card gate (customers.gate: the lock, the status rule, the version check, the audit
  entry). A PATCH sends only the fields it changes, with the version it saw (``If-Match: "<updated_at>"``
  or ``updated_at``), as the page sends ``version``.
- Masking as on the pages: the search masks phone and email unless the caller holds
  ``customers.view_unmasked_contacts``; one card shows them in full, as its page does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from closures import rules
from customers import filters as search_filters
from customers import gate
from customers.forms import CustomerForm
from customers.models import Customer, Tag
from customers.numbers import normalise_customer_no

from . import customer_serializers as cs
from .errors import ApiError, check_form, in_both, perform
from .idempotency import idempotent
from .pagination import KeysetPagination
from .schema import ERRORS, IDEMPOTENCY_KEY, IF_MATCH
from .views import ApiView

API = gate.Source("api")
# Not the ID document number: the API neither shows nor takes it (SECURITY.md, "Sensitive fields").
WRITABLE = (set(gate.CARD_FIELDS) - {"id_number"}) | {"save_anyway", "updated_at"}
UNKNOWN_FIELD = _("This field does not exist.")
UNKNOWN_OWNER = _("No user has the username “%(username)s”.")
NO_SORT = _("The API lists newest cards first; o (sort) is not supported.")


def card_by_number(number: str, user) -> Customer:
    """The card with this customer number (canonical form) that ``user``'s data scope shows, or 404."""
    cards = (
        Customer.objects.visible_to(user).select_related("owner").prefetch_related(Prefetch("tags", Tag.objects.all()))
    )
    return get_object_or_404(cards, customer_no=normalise_customer_no(number))


def summaries(ids: list[int]) -> dict:
    """The open closures and pending requests of these cards, two queries for a whole page."""
    return {"closures": rules.open_closures(ids), "pending": rules.pending_requests(ids)}


def card_response(request, card: Customer, status_code: int = 200) -> Response:
    card = card_by_number(card.customer_no, request.user)  # as stored now, tags included
    data = cs.CustomerSerializer(card, context=summaries([card.pk])).data
    headers = {"ETag": f'"{card.updated_at.isoformat()}"'}
    if status_code == status.HTTP_201_CREATED:
        headers["Location"] = request.build_absolute_uri(f"{card.customer_no}/")
    return Response(data, status=status_code, headers=headers)


def _search_parameters() -> list[OpenApiParameter]:
    kinds = {"DateFilter": OpenApiTypes.DATE, "NumberFilter": OpenApiTypes.NUMBER}
    parameters = []
    for name, filter_ in search_filters.CustomerFilter.base_filters.items():
        if name == "o":
            continue
        kind = type(filter_).__name__
        many = "Multiple" in kind or name == "tag"
        schema_type = kinds.get(kind, OpenApiTypes.INT if kind in ("OwnerFilter", "BatchFilter") else OpenApiTypes.STR)
        parameters.append(
            OpenApiParameter(name, schema_type, many=many, description=str(filter_.label or name), explode=True)
        )
    return parameters


class CustomerList(ApiView):
    """Search the cards (GET) or create one (POST)."""

    required_permissions = ("customers.view_customer",)
    method_permissions = {"POST": ("customers.add_customer",)}
    serializer_class = cs.CustomerRowSerializer
    pagination_class = KeysetPagination
    queryset = Customer.objects.none()

    @extend_schema(
        parameters=_search_parameters(),
        responses={200: cs.CustomerRowSerializer(many=True), **ERRORS},
        description="The search box (q) and the advanced filters of the search page, with its meaning. "
        "Active cards only unless status is given. Newest first.",
    )
    def get(self, request):
        params = request.query_params
        if params.get("o"):
            raise ApiError.of("invalid", NO_SORT, field="o")
        before, limit = self.paginator.bounds(request)
        filterset, queryset = search_filters.found_newest_first(params, request.user, before=before, limit=limit + 1)
        if not filterset.form.is_valid():
            user = request.user
            check_form(lambda: search_filters.CustomerFilter(params, queryset=Customer.objects.none(), user=user).form)
        page = self.paginate_queryset(queryset.prefetch_related(Prefetch("tags", Tag.objects.all())))
        context = {"unmasked": request.user.has_perm(cs.UNMASKED), **summaries([card.pk for card in page])}
        return self.get_paginated_response(cs.CustomerRowSerializer(page, many=True, context=context).data)

    @extend_schema(
        request=cs.CustomerWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: cs.CustomerSerializer, **ERRORS},
        description="Create a card, validated as the card form validates and written by the card gate.",
    )
    @idempotent
    def post(self, request):
        user = request.user
        data = form_data(request.data)
        form = check_form(lambda: CustomerForm(data, user=user), rename={"version": "updated_at"})
        values = {**_money_values(request.data), **form.card_values()}
        card = perform(gate.create_card, values, by=user, source=API, request=request._request)
        return card_response(request, card, status.HTTP_201_CREATED)


class CustomerDetail(ApiView):
    """One card (GET), or change some of its fields (PATCH)."""

    required_permissions = ("customers.view_customer",)
    method_permissions = {"PATCH": ("customers.change_customer",)}
    serializer_class = cs.CustomerSerializer
    queryset = Customer.objects.none()

    @extend_schema(responses={200: cs.CustomerSerializer, **ERRORS})
    def get(self, request, customer_no: str):
        return card_response(request, card_by_number(customer_no, request.user))

    @extend_schema(
        request=cs.CustomerWriteSerializer,
        parameters=[IDEMPOTENCY_KEY, IF_MATCH],
        responses={
            200: cs.CustomerSerializer,
            409: OpenApiResponse(description="Not active, or changed since."),
            **ERRORS,
        },
        description="Change the fields sent, through the card gate. Send the version you saw as If-Match.",
    )
    @idempotent
    def patch(self, request, customer_no: str):
        card = card_by_number(customer_no, request.user)
        if not card.is_active:
            code = "erased" if card.is_erased else "not_active"
            texts = in_both(lambda: gate.status_refusal(card.status, card.customer_no))
            raise ApiError(code, texts, status_code=409)
        user = request.user
        data = form_data(request.data, card)
        form = check_form(lambda: CustomerForm(data, instance=card, user=user), rename={"version": "updated_at"})
        seen = _seen(request)
        values = {**_money_values(request.data), **form.card_values()}  # the gate refuses a money change
        change = perform(gate.update_card, card, values, by=user, source=API, seen=seen, request=request._request)
        return card_response(request, change.customer)


def _seen(request) -> str | None:
    """The version the client saw: If-Match ("<updated_at>", weak or strong), or ``updated_at`` in the body."""
    tag = (request.headers.get("If-Match") or "").strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    return version(tag if tag and tag != "*" else str(request.data.get("updated_at") or "")) or None


def version(seen: str) -> str:
    """A card's ``updated_at`` as the gate and the closure rules compare it (its isoformat() in UTC),
    from the ETag or from the representation (which shows it in local time)."""
    try:
        moment = parse_datetime(seen)
    except ValueError:
        return seen
    return moment.astimezone(dt.UTC).isoformat() if moment and moment.tzinfo else seen


def form_data(body, card: Customer | None = None) -> dict:
    """The card form's POST data: the card's values now (a PATCH), with the body's values on top.

    Tags as a list of names (or the form's comma-separated text), the owner as a username (or null).
    """
    if not hasattr(body, "keys"):
        raise ApiError.of("parse_error", _("The body is a JSON object of the card's fields."))
    unknown = sorted(set(body) - WRITABLE)
    if unknown:
        texts = in_both(lambda: UNKNOWN_FIELD)
        raise ApiError(
            "invalid",
            in_both(lambda: _("Some values are not valid; see fields.")),
            fields={name: [("unknown_field", texts)] for name in unknown},
        )
    data = _values_of(card if card is not None else Customer(customer_since=None))
    for name, value in body.items():
        if name == "updated_at":
            continue
        if name == "owner":
            data[name] = _owner_pk(value)
        elif name == "tags":
            data[name] = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
        elif name == "save_anyway":
            data[name] = "on" if value in (True, "true", "on", "1", 1) else ""
        else:
            data[name] = "" if value is None else str(value)
    return data


def _money_values(body) -> dict:
    """Balance and points sent, as numbers: the form leaves them out where they may not be set (an
    existing card, a Staff caller), so the gate hears them and refuses with its own message."""
    values = {}
    for name, kind in (("balance", Decimal), ("points", int)):
        if body.get(name) in (None, ""):
            continue
        try:
            values[name] = kind(str(body[name]))
        except (InvalidOperation, ValueError):
            raise ApiError.of("invalid", _("Enter a number."), field=name) from None
    return values


def _values_of(card: Customer) -> dict:
    values = {}
    for name in gate.CARD_FIELDS:
        if name in gate.MONEY_FIELDS and card.pk:  # an existing card's money moves by ledger entries only
            continue
        value = getattr(card, name) if name not in ("owner", "tags") else None
        if name == "owner":
            value = card.owner_id or ""
        elif name == "tags":
            value = ", ".join(sorted(tag.name for tag in card.tags.all())) if card.pk else ""
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        values[name] = "" if value is None else str(value)
    return values


def _owner_pk(username) -> str:
    if username in (None, ""):
        return ""
    owner = CustomerForm.base_fields["owner"].queryset.model.objects.filter(username=str(username)).first()
    if owner is None:
        raise ApiError.of("unknown_owner", UNKNOWN_OWNER, field="owner", username=str(username))
    return str(owner.pk)
