"""Encryption of sensitive fields at rest, and the keyed hash that finds them by exact value.

    encrypt(text) -> token          decrypt(token) -> text          rotate(token) -> token
    keyed_hash(text) -> 64 hex characters (HMAC-SHA256)

Fernet (``cryptography``: AES-128-CBC and HMAC-SHA256 over a random IV, so the same value gives a
different token each time) through ``MultiFernet``: ``CRM_FIELD_KEYS`` lists the keys, the first
encrypts, every one decrypts, so a new key is put first and the old one kept until
``manage.py rotate_field_keys`` has re-encrypted every value with the new one.

A token cannot be searched, so a field that must be found by its value also stores its keyed hash
(``CRM_HASH_KEY``): equal values give equal hashes, and without the key nobody can test a guess.
An ID card number has about 10^11 plausible values (region, birth date, sequence), which a plain
SHA-256 would give up in hours; the HMAC key is what stands between a database dump and the values.

Unset, both keys are derived from ``SECRET_KEY`` (HKDF with a label per key), so ``make run`` and
the tests need nothing; ``check --deploy`` warns when production relies on that (crm/checks.py),
because a changed ``SECRET_KEY`` would then make every encrypted value unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["UnreadableValue", "decrypt", "derived_settings", "encrypt", "keyed_hash", "rotate"]


class UnreadableValue(Exception):
    """A stored token that none of ``CRM_FIELD_KEYS`` decrypts (a key removed too early, or the wrong one)."""


def _derived(label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(settings.SECRET_KEY.encode())


def field_keys() -> tuple[bytes, ...]:
    """The Fernet keys, the one that encrypts first."""
    configured = getattr(settings, "CRM_FIELD_KEYS", None)
    if configured:
        return tuple(key.encode() for key in configured)
    return (base64.urlsafe_b64encode(_derived(b"crm.crypto field key")),)


def hash_key() -> bytes:
    configured = getattr(settings, "CRM_HASH_KEY", "")
    return configured.encode() if configured else _derived(b"crm.crypto hash key")


def derived_settings() -> list[str]:
    """The key settings left unset, whose keys are derived from SECRET_KEY."""
    names = ("CRM_FIELD_KEYS", "CRM_HASH_KEY")
    return [name for name in names if not getattr(settings, name, None)]


@lru_cache(maxsize=8)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(text: str) -> str:
    """The Fernet token of ``text`` (text: URL-safe base64); "" stays ""."""
    if not text:
        return text
    return _fernet(field_keys()).encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return token
    try:
        return _fernet(field_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableValue(
            "An encrypted field cannot be decrypted with any key of CRM_FIELD_KEYS: was a key removed "
            "before `manage.py rotate_field_keys` ran, or SECRET_KEY changed while the keys were derived from it?"
        ) from None


def rotate(token: str) -> str:
    """The token re-encrypted with the first key (the same token's value, a new token)."""
    if not token:
        return token
    try:
        return _fernet(field_keys()).rotate(token.encode()).decode()
    except InvalidToken:
        decrypt(token)  # raises UnreadableValue with its explanation
        raise


def keyed_hash(text: str) -> str:
    """HMAC-SHA256 of ``text`` under ``CRM_HASH_KEY``, as 64 hex characters; "" stays ""."""
    if not text:
        return ""
    return hmac.new(hash_key(), text.encode(), hashlib.sha256).hexdigest()
