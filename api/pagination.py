"""Cursor pagination: a page is "the next ``limit`` rows after this one", never "page N".

A list is read in one fixed order ending in the primary key (customers: newest first by id;
closures: newest first by performed_at, then id). The cursor carries the sort values of the last
row sent (base64 JSON), and the next page is ``WHERE (column, id) < (last column, last id) ORDER BY
column DESC, id DESC LIMIT limit + 1``: an index range read of the same cost on the first page and the
last at a million rows, with no COUNT, and stable under inserts (a card created while a client pages
through lands before the first page, so it is neither repeated nor skips another one).

    {"next": "<url of the next page, or null>", "results": [...]}
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.db.models import F, Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from .errors import ApiError

DEFAULT_LIMIT = 25  # as the search page
MAX_LIMIT = 200
BAD_CURSOR = _("This cursor is not valid: use the “next” link of the previous page as it is.")
BAD_LIMIT = _("limit is a whole number from 1 to %(max)d.")


class KeysetPagination(BasePagination):
    """Newest first on ``column`` (or the primary key alone), then the primary key."""

    cursor_query_param = "cursor"
    limit_query_param = "limit"
    column: str | None = None  # a datetime column; None: the primary key alone

    def __init__(self):
        self.next_url = None

    def paginate_queryset(self, queryset, request, view=None):
        limit = self._limit(request)
        order = [F(self.column).desc(), F("pk").desc()] if self.column else [F("pk").desc()]
        queryset = queryset.order_by(*order)
        raw = request.query_params.get(self.cursor_query_param)
        if raw:
            queryset = queryset.filter(self._after(raw))
        rows = list(queryset[: limit + 1])
        self.next_url = None
        if len(rows) > limit:
            rows = rows[:limit]
            self.next_url = self._next_url(request, self._encode(rows[-1]))
        return rows

    def _next_url(self, request, cursor: str) -> str:
        """The same query with the next cursor, written from the parsed parameters: a query sent with
        raw UTF-8 (curl "...?q=伟") comes in as ISO-8859-1 (WSGI), which the raw URI would encode twice."""
        query = request.query_params.copy()
        query[self.cursor_query_param] = cursor
        return f"{request.build_absolute_uri(request.path)}?{query.urlencode()}"

    def get_paginated_response(self, data):
        return Response({"next": self.next_url, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "The next page (null on the last page).",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "The cursor from the previous page's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.limit_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
        ]

    def bounds(self, request) -> tuple[int | None, int]:
        """(the id the page starts below, or None; rows per page) of a list by the primary key alone,
        for a view that reads its page's ids itself (the customer search, customers.filters)."""
        raw = request.query_params.get(self.cursor_query_param)
        return (self._after(raw).children[0][1] if raw else None), self._limit(request)

    # --- the cursor ---------------------------------------------------------------------------
    def _limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw in (None, ""):
            return DEFAULT_LIMIT
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise ApiError.of("invalid", BAD_LIMIT, field=self.limit_query_param, max=MAX_LIMIT)
        return int(raw)

    def _encode(self, row) -> str:
        data = {"id": row.pk}
        if self.column:
            value = getattr(row, self.column)
            data["v"] = value.isoformat() if isinstance(value, dt.datetime | dt.date) else value
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    def _after(self, raw: str) -> Q:
        try:
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            pk = int(data["id"])
            if not self.column:
                return Q(pk__lt=pk)
            value = parse_datetime(data["v"])
            if value is None:
                raise ValueError(raw)
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
            raise ApiError.of("invalid", BAD_CURSOR, field=self.cursor_query_param) from None
        return Q(**{f"{self.column}__lt": value}) | Q(**{self.column: value, "pk__lt": pk})


class ByPerformedAt(KeysetPagination):
    """Closures, newest first."""

    column = "performed_at"


class ByRequestedAt(KeysetPagination):
    """Closure requests, newest first."""

    column = "requested_at"
