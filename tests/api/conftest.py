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
