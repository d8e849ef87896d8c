"""How the API knows its caller: an API token (``Authorization: Bearer crm_...``) for machines, the
session for a logged-in person using the browsable API and the docs page (api.tokens)."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from crm.middleware import client_ip

from . import tokens


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization: Bearer <token>, with the token and nothing else.")
        try:
            user = tokens.authenticate(header[1], client_ip(request._request))
        except tokens.TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        return user, user.api_token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The logged-in person of the pages (CSRF checked on writes, as DRF does)."""
