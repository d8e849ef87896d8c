"""The API's views: short, as the pages' are; the operations do the work (DESIGN.md).

Each view declares ``required_permissions`` (api.permissions.DeclaredPermissions checks them), so a
token may do exactly what a user of its role may on the pages.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics
from rest_framework.views import APIView

from closures.models import ClosureReason

from . import serializers
from .errors import ApiError

NUL = _("Text may not contain the NUL character (\\u0000).")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class ApiView(generics.GenericAPIView):
    """The base of the API's views: once the caller may call it, a NUL character anywhere in the
    path, the query or the body is refused (400 ``null_character``) before anything reads it:
    PostgreSQL cannot store or even compare text holding one, and would answer a lookup with a 500."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        body = request.data if request.method in ("POST", "PUT", "PATCH") else None
        if _has_nul(kwargs) or _has_nul(list(request.query_params.lists())) or _has_nul(body):
            raise ApiError.of("null_character", NUL)


def declared(view_class, permissions: tuple[str, ...]):
    """``view_class`` (a library's view) with its permissions declared."""
    return type(view_class.__name__, (view_class,), {"required_permissions": permissions})


class ReasonList(generics.ListAPIView, ApiView):
    """The closure reasons, retired ones included (their ``is_active`` is false): a closure may
    name only an active reason that applies to its action."""

    required_permissions = ("closures.view_closurereason",)
    serializer_class = serializers.ReasonSerializer
    queryset = ClosureReason.objects.order_by("display_order", "id")
    pagination_class = None


@extend_schema(exclude=True)
class NotFound(APIView):
    """Every other path under /api/v1/: 404 in the API's error shape (api.errors)."""

    required_permissions = ()

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise exceptions.NotFound

    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound
