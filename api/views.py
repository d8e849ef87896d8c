"""The API's views: short, as the pages' are; the operations do the work (DESIGN.md).

Each view declares ``required_permissions`` (api.permissions.DeclaredPermissions checks them), so a
token may do exactly what a user of its role may on the pages.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics
from rest_framework.views import APIView

from closures.models import ClosureReason

from . import serializers


def declared(view_class, permissions: tuple[str, ...]):
    """``view_class`` (a library's view) with its permissions declared."""
    return type(view_class.__name__, (view_class,), {"required_permissions": permissions})


class ReasonList(generics.ListAPIView):
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
