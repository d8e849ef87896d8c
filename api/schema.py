"""Pieces of the OpenAPI schema shared by the views: the error shape (api.errors) and the headers."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class FieldErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField(help_text="In the request's language (Accept-Language).")
    message_en = serializers.CharField()
    message_zh = serializers.CharField()


class ErrorDetailSerializer(FieldErrorSerializer):
    fields = serializers.DictField(
        child=FieldErrorSerializer(many=True), help_text="Per field: what is wrong with its value (may be empty)."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


ERRORS = {
    400: _error("Not valid: `fields` says what is wrong with each value."),
    401: _error("No API token or login, or the token was refused."),
    403: _error("The token's role (or the user) may not do this."),
    404: _error("Not found."),
    409: _error("Refused by the card's state: closed meanwhile, changed since you read it, already done."),
    422: _error("`idempotency_key_reused`: this Idempotency-Key was used for another request."),
    429: _error("Too many requests: wait the seconds in Retry-After."),
}
READ_ERRORS = {code: ERRORS[code] for code in (400, 401, 403, 404, 429)}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID): the same key with the same body replays the first answer; "
    "with another body it is refused (422). Kept 24 hours.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The card\'s ETag as you read it ("<updated_at>"): refused (409) when the card changed since.',
)


class TokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer crm_...`` (api.auth.TokenAuthentication)."""

    target_class = "api.auth.TokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (Integration → API tokens), acting as a user of the token's role.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    """The logged-in person of the pages (api.auth.SessionAuthentication)."""

    target_class = "api.auth.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
