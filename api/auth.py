"""How the API knows its caller: an API token (``Authorization: Bearer crm_...``) for machines, the
session for a logged-in person using the browsable API and the docs page (api.tokens)."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from crm.middleware import client_ip

from . import errors, tokens

MALFORMED = _("Send Authorization: Bearer <token>, with the token and nothing else.")


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            failed = exceptions.AuthenticationFailed(MALFORMED)
            failed.texts = errors.in_both(lambda: MALFORMED)
            raise failed
        ip = client_ip(request._request)
        try:
            user = tokens.authenticate(header[1], ip)
        except tokens.TokenRefused as refused:
            failed = exceptions.AuthenticationFailed(str(refused))
            failed.texts = _reasons(header[1], ip)  # the API's errors carry both languages (api.errors)
            raise failed from None
        return user, user.api_token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


def _reasons(secret: str, ip: str | None) -> dict[str, str]:
    """Why the token is refused, in English and Chinese (checking it again is a read)."""
    texts = {}
    for key, language in errors.LANGUAGES.items():
        with translation.override(language):
            try:
                tokens.authenticate(secret, ip)
            except tokens.TokenRefused as refused:
                texts[key] = str(refused)
    return texts if len(texts) == len(errors.LANGUAGES) else {}


class SessionAuthentication(authentication.SessionAuthentication):
    """The logged-in person of the pages (CSRF checked on writes, as DRF does)."""
