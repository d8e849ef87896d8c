"""Calling the API as another system would: with a token in the Authorization header."""

import pytest
from rest_framework.test import APIClient

from api import tokens


def client_for(secret: str, *, ip: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def token_client(admin_user):
    """``token_client(owner, role)``: an APIClient holding a fresh token of that role."""

    def make(owner, role: str, **options) -> APIClient:
        _token, secret = tokens.create_token(
            name=f"{role} system {owner.pk}", owner=owner, role=role, by=admin_user, **options
        )
        return client_for(secret)

    return make


@pytest.fixture
def receiver(settings):
    """A real HTTP receiver on 127.0.0.1 (tests/api/receiver.py), allowed past the SSRF check."""
    from tests.api.receiver import start

    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_THREADS = 2
    server = start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def subscribe(admin_user):
    """``subscribe(receiver, events=..., fields=...)``: an endpoint of that receiver, and its secret."""
    from api import webhooks
    from api.envelopes import TYPES

    def make(receiver, events=TYPES, fields=(), name="Finance"):
        return webhooks.create_endpoint(
            name=name, url=receiver.url, events=list(events), fields=list(fields), by=admin_user
        )

    return make
