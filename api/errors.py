"""Every error of the API in one JSON shape, with a machine code and the message in both languages.

    {"error": {"code": "not_active",
               "message": "<in the request's language (Accept-Language)>",
               "message_en": "...", "message_zh": "...",
               "fields": {"notes": [{"code": "required", "message": "...", "message_en": "...", "message_zh": "..."}]}}}

``fields`` is always present (empty when the error is not about one field). :func:`handler` is DRF's
EXCEPTION_HANDLER (crm/settings.py): it answers DRF's own errors (401, 403, 404, 405, 406, 415, 429,
a body that does not parse), Django's PermissionDenied and Http404, and the ValidationError the card
gate and the closure operations raise, in this shape. Anything else is a bug and stays a 500.

Both languages: a message is rendered under ``translation.override("en")`` and ``("zh-hans")``. The
operations and forms format their messages when they raise them (``_("...") % {...}``), so a message
cannot be re-rendered afterwards; instead the pure checks (a form, a serializer) are run once more in
each language (:func:`check_form`), and a refused operation is run once more in the other language
inside a transaction that is always rolled back (:func:`perform`): it refuses again with the same
rule, now in that language, and changes nothing. Only refusals pay for this; a success runs once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

LANGUAGES = {"en": "en", "zh": "zh-hans"}

# A refusal of an operation because of the card's state or a concurrent change: 409 Conflict, not 400.
CONFLICT_CODES = {"already", "stale", "pending", "not_active", "status", "erased", "used", "idempotency_in_progress"}

DEFAULT_MESSAGES = {
    "not_authenticated": _("Log in, or send an API token: Authorization: Bearer <token>."),
    "authentication_failed": _("The API token was refused."),
    "permission_denied": _("You are not allowed to do this."),
    "not_found": _("Not found."),
    "method_not_allowed": _("The method %(method)s is not allowed here."),
    "not_acceptable": _("The API answers in JSON: send Accept: application/json."),
    "unsupported_media_type": _("Send the body as JSON (Content-Type: application/json), not %(media_type)s."),
    "parse_error": _("The body is not valid JSON."),
    "throttled": _("Too many requests: try again in %(seconds)d seconds."),
    "invalid": _("Some values are not valid; see fields."),
}


def language_key() -> str:
    """ "zh" when the request's language is Chinese, else "en"."""
    return "zh" if (translation.get_language() or "").lower().startswith("zh") else "en"


def in_both(render: Callable[[], Any]) -> dict[str, str]:
    """``render()`` (something that reads translations) in English and in Chinese."""
    out = {}
    for key, language in LANGUAGES.items():
        with translation.override(language):
            out[key] = str(render())
    return out


def _entry(code: str, texts: dict[str, str]) -> dict[str, str]:
    return {"code": code, "message": texts[language_key()], "message_en": texts["en"], "message_zh": texts["zh"]}


class ApiError(exceptions.APIException):
    """An error already in the API's shape: ``texts`` is ``{"en": ..., "zh": ...}``; ``fields`` maps a
    field to a list of ``(code, texts)``."""

    def __init__(self, code: str, texts: dict[str, str], *, status_code: int = 400, fields=None, headers=None):
        super().__init__(detail=texts[language_key()], code=code)
        self.status_code = status_code
        self.error_code = code
        self.texts = texts
        self.fields = fields or {}
        self.headers = headers or {}

    @classmethod
    def of(cls, code: str, message, /, *, status_code: int = 400, field: str | None = None, **params) -> ApiError:
        """An error from a lazy message (``params`` fill it in each language); with ``field``, about that field."""
        texts = in_both(lambda: str(message) % params if params else message)
        fields = {field: [(code, texts)]} if field else None
        if field:
            code_texts = in_both(lambda: DEFAULT_MESSAGES["invalid"])
            return cls("invalid", code_texts, status_code=status_code, fields=fields)
        return cls(code, texts, status_code=status_code)

    def body(self) -> dict:
        fields = {name: [_entry(code, texts) for code, texts in errors] for name, errors in self.fields.items()}
        return {"error": {**_entry(self.error_code, self.texts), "fields": fields}}


# --- Refusals of the forms and the operations, in both languages --------------------------------------


def _messages_of(error: DjangoValidationError) -> dict[str, list[tuple[str, str]]]:
    """``{field or NON_FIELD_ERRORS: [(code, message), ...]}`` of a Django ValidationError."""
    if hasattr(error, "error_dict"):
        return {
            name: [(e.code or "invalid", _text(e)) for e in errors]
            for name, errors in error.error_dict.items()  # type: ignore[attr-defined]
        }
    return {NON_FIELD_ERRORS: [(e.code or "invalid", _text(e)) for e in error.error_list]}


def _text(error: DjangoValidationError) -> str:
    message = error.message
    return str(message % error.params) if error.params else str(message)


def from_validation(per_language: dict[str, DjangoValidationError], *, rename=None) -> ApiError:
    """One ApiError from the same refusal rendered in each language (``{"en": error, "zh": error}``).

    ``rename`` maps a form's field names to the API's. Errors not about a field become the top-level
    message (status 409 for a conflict with the card's state, see CONFLICT_CODES, else 400).
    """
    rename = rename or {}
    rendered = {}
    for key, error in per_language.items():
        with translation.override(LANGUAGES[key]):  # a lazy message (a form field's own) renders in each
            rendered[key] = _messages_of(error)
    first = rendered[language_key()] if language_key() in rendered else next(iter(rendered.values()))
    fields: dict[str, list] = {}
    top: tuple[str, dict[str, str]] | None = None
    for name, errors in first.items():
        for i, (code, _message) in enumerate(errors):
            texts = {key: _nth(messages, name, i) for key, messages in rendered.items()}
            for key in LANGUAGES:
                texts.setdefault(key, texts.get("en") or next(iter(texts.values())))
            if name in (NON_FIELD_ERRORS, None):
                top = top or (code, texts)
            else:
                fields.setdefault(rename.get(name, name), []).append((code, texts))
    if top is not None:
        code, texts = top
        return ApiError(code, texts, status_code=error_status(code), fields=fields)
    return ApiError("invalid", in_both(lambda: DEFAULT_MESSAGES["invalid"]), fields=fields)


def _nth(messages: dict, name: str, i: int) -> str:
    errors = messages.get(name) or []
    return errors[i][1] if i < len(errors) else (errors[0][1] if errors else "")


def check_form(build: Callable[[], Any], *, rename=None):
    """``build()`` (a bound Form) validated; ApiError with each field's messages in both languages when
    it is not valid. Returns the valid form (built in the request's language)."""
    form = build()
    if form.is_valid():
        return form
    per_language = {}
    for key, language in LANGUAGES.items():
        with translation.override(language):
            other = build()
            other.is_valid()
            per_language[key] = DjangoValidationError(other.errors.as_data())
    raise from_validation(per_language, rename=rename)


class _Undo(Exception):
    pass


def perform(operation: Callable, *args, rename=None, **kwargs):
    """Call a gate or closure operation; its ValidationError becomes an ApiError in both languages.

    The refused operation changed nothing (it is atomic); it is run once more under the other
    language, in a transaction always rolled back, to word the same refusal in that language.
    """
    try:
        return operation(*args, **kwargs)
    except DjangoValidationError as refused:
        mine = language_key()
        per_language = {mine: refused}
        for key, language in LANGUAGES.items():
            if key == mine:
                continue
            try:
                with transaction.atomic(), translation.override(language):
                    operation(*args, **kwargs)
                    raise _Undo
            except DjangoValidationError as again:
                per_language[key] = again
            except _Undo:  # it went through the second time (the card changed meanwhile): undone
                pass
        raise from_validation(per_language, rename=rename) from refused


# --- DRF's exception handler ---------------------------------------------------------------------------


def _drf_error(exc: exceptions.APIException) -> ApiError:
    if isinstance(exc, exceptions.NotAuthenticated):
        return ApiError("not_authenticated", in_both(lambda: DEFAULT_MESSAGES["not_authenticated"]), status_code=401)
    if isinstance(exc, exceptions.AuthenticationFailed):
        texts = getattr(exc, "texts", None) or in_both(lambda: DEFAULT_MESSAGES["authentication_failed"])
        return ApiError("authentication_failed", texts, status_code=401)
    if isinstance(exc, exceptions.PermissionDenied):
        return ApiError("permission_denied", in_both(lambda: DEFAULT_MESSAGES["permission_denied"]), status_code=403)
    if isinstance(exc, exceptions.NotFound):
        return ApiError("not_found", in_both(lambda: DEFAULT_MESSAGES["not_found"]), status_code=404)
    if isinstance(exc, exceptions.MethodNotAllowed):
        method = str(exc.detail).split('"')[1] if '"' in str(exc.detail) else ""
        texts = in_both(lambda: DEFAULT_MESSAGES["method_not_allowed"] % {"method": method})
        return ApiError("method_not_allowed", texts, status_code=405)
    if isinstance(exc, exceptions.NotAcceptable):
        return ApiError("not_acceptable", in_both(lambda: DEFAULT_MESSAGES["not_acceptable"]), status_code=406)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        media = str(exc.detail).split('"')[1] if '"' in str(exc.detail) else ""
        texts = in_both(lambda: DEFAULT_MESSAGES["unsupported_media_type"] % {"media_type": media})
        return ApiError("unsupported_media_type", texts, status_code=415)
    if isinstance(exc, exceptions.ParseError):
        return ApiError("parse_error", in_both(lambda: DEFAULT_MESSAGES["parse_error"]), status_code=400)
    if isinstance(exc, exceptions.Throttled):
        seconds = math.ceil(exc.wait or 1)
        texts = in_both(lambda: DEFAULT_MESSAGES["throttled"] % {"seconds": seconds})
        return ApiError("throttled", texts, status_code=429, headers={"Retry-After": str(seconds)})
    if isinstance(exc, exceptions.ValidationError):
        return _serializer_error(exc)
    code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
    return ApiError(code, {"en": str(exc.detail), "zh": str(exc.detail)}, status_code=exc.status_code)


def _serializer_error(exc: exceptions.ValidationError) -> ApiError:
    """A DRF ValidationError raised outside :func:`check_form` (one language only: the request's)."""
    detail = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD_ERRORS: exc.detail}
    fields = {}
    for name, errors in detail.items():
        errors = errors if isinstance(errors, list) else [errors]
        fields[name] = [(getattr(e, "code", "invalid"), {"en": str(e), "zh": str(e)}) for e in errors]
    return ApiError("invalid", in_both(lambda: DEFAULT_MESSAGES["invalid"]), fields=fields)


def handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error in the one shape; None (a 500) only for a bug."""
    from rest_framework.response import Response  # here: api.auth imports this module while DRF loads
    from rest_framework.views import set_rollback

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        error = from_validation({language_key(): exc})
    elif isinstance(exc, ApiError):
        error = exc
    elif isinstance(exc, exceptions.APIException):
        error = _drf_error(exc)
    else:
        return None
    headers = dict(error.headers)
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) and "Retry-After" not in headers:
        headers["Retry-After"] = str(math.ceil(exc.wait))
    set_rollback()
    return Response(error.body(), status=error.status_code, headers=headers)


def error_status(code: str) -> int:
    """409 for a conflict with the card's state, 403 for an operation's own permission check, else 400."""
    if code in CONFLICT_CODES:
        return status.HTTP_409_CONFLICT
    if code in ("permission", "not_yours"):  # not_yours: someone else's request to withdraw
        return status.HTTP_403_FORBIDDEN
    return status.HTTP_400_BAD_REQUEST
