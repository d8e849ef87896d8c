"""Model fields of the project's own.

``EncryptedTextField``: text encrypted at rest (crm/crypto.py). The column holds the Fernet token;
the model attribute, forms and templates see the clear value. A token differs at every save and
cannot be compared, so the field is usable in no lookup but ``isnull`` and equality with "" (is
it empty?): find a value by exact match through a keyed hash stored beside it (crm.crypto.keyed_hash).
"""

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact

from . import crypto


class _EmptyOnly(Exact):
    """``field=""`` (or None): whether a value is there. Any other value would compare with a token."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.target.name} is encrypted: it can be compared only with '' "
                "(search its keyed hash for a value)."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """A text column holding the Fernet token of its value; "" is stored as "" (no token for nothing)."""

    def from_db_value(self, value, expression, connection):
        return crypto.decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return crypto.encrypt(value) if value else value

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnly
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None
