"""Identity-document numbers (证件号码): a resident ID card, a passport or the like.

Stored encrypted (``Customer.id_number``, crm/fields.py) beside the keyed hash of its normal form
(``id_number_hash``), which is how the search box finds a card by the exact number: never part of
it. Shown masked everywhere but the card form of a user who may change the card, and in the audit
trail only masked (:func:`audited`): the trail keeps that it changed, not what it was.

    normalise("110101 19900307-457x") -> "11010119900307457X"
    problem(value) -> a message, or "" when the value is acceptable
    mask("11010119900307457X") -> "1101**********457X"
    search_hash(text) -> the hash to look for, or None when the text cannot be an ID number
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from crm import crypto

FIELD = "id_number"
MIN_LENGTH, MAX_LENGTH = 5, 30
# GB 11643-1999: 17 digits (region, birth date, sequence) and a check character.
_RESIDENT_ID = re.compile(r"\d{17}[\dX]")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_DOCUMENT = re.compile(rf"[A-Z0-9]{{{MIN_LENGTH},{MAX_LENGTH}}}")
_SEPARATORS = re.compile(r"[\s\-‐‑–—－]+")


def normalise(text: str) -> str:
    """Spaces and hyphens removed, upper case: the form stored and hashed."""
    return _SEPARATORS.sub("", text or "").upper()


def check_character(first_17: str) -> str:
    """The GB 11643 check character of a resident ID card number's first 17 digits."""
    return _CHECK[sum(int(digit) * weight for digit, weight in zip(first_17, _WEIGHTS, strict=True)) % 11]


def problem(value: str) -> str:
    """What is wrong with a normalised number ("" when nothing is)."""
    if _RESIDENT_ID.fullmatch(value):
        if value[17] != check_character(value[:17]):
            return _(
                "This resident ID card number's check character (the last one) does not match the other 17: "
                "check the number for a typing mistake."
            )
        return ""
    if not _DOCUMENT.fullmatch(value):
        return _("Enter an ID document number of %(min)d to %(max)d letters and digits.") % {
            "min": MIN_LENGTH,
            "max": MAX_LENGTH,
        }
    return ""


def mask(value: str) -> str:
    """First 4 and last 4 characters shown, the rest as *; a shorter number (under 12) shows only its
    first and last character, one of 2 or fewer characters none."""
    value = value or ""
    if len(value) >= 12:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    if len(value) > 2:
        return value[0] + "*" * (len(value) - 2) + value[-1]
    return "*" * len(value)


def keyed_hash(value: str) -> str:
    """The stored hash of a number (any spelling): "" for no number."""
    return crypto.keyed_hash(normalise(value))


def search_hash(text: str) -> str | None:
    """The hash to look for when ``text`` could be an ID document number (5-30 letters and digits, one
    digit at least, spaces and hyphens ignored); None otherwise (a name, an e-mail)."""
    value = normalise(text)
    if _DOCUMENT.fullmatch(value) and any(ch.isdigit() for ch in value):
        return crypto.keyed_hash(value)
    return None


def audited(changes: dict) -> dict:
    """``{field: [old, new]}`` as the audit trail may keep it: the ID number masked, never in clear."""
    if FIELD not in changes:
        return changes
    old, new = changes[FIELD]
    return {**changes, FIELD: [mask(old) if old else old, mask(new) if new else new]}
