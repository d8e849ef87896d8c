"""The part of a result that the search box matched, marked ``<mark>…</mark>``, every text escaped.

customers.search decides what matches: part of a name (case-insensitive; 1–2 Chinese characters
through the name grams, which are substrings too), a customer number as a whole (in its canonical
form: full-width and lower-case input finds ``C000123``), an email as a whole, or the end of a
phone number (its last 4 or more digits, or all of them). :class:`Marks` repeats those rules on the
text a row shows, so a row marks exactly what made it match. Text is split first and each piece
escaped (``html.escape``, as customers.rows does), so a name such as ``<script>`` stays text.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from html import escape

from django.utils.safestring import SafeString, mark_safe

from .numbers import normalise_customer_no
from .phones import phone_digits
from .search import MIN_PHONE_DIGITS, Terms

MARK = "<mark>{}</mark>"


@dataclass(frozen=True)
class Marks:
    """What to mark in a row: ``name`` (a substring), ``number`` and ``email`` (whole values),
    ``digits`` (the end of a phone)."""

    name: str = ""
    number: str = ""
    email: str = ""
    digits: str = ""

    @classmethod
    def for_terms(cls, terms: Terms | None) -> "Marks | None":
        """The marks for a parsed search box (customers.search.parse), None for an empty box."""
        if terms is None:
            return None
        text = terms.text
        number = normalise_customer_no(text)
        if terms.by_name:
            return cls(name=text, number=number)
        if "@" in text:
            return cls(number=number, email=text)
        return cls(number=number, digits=phone_digits(unicodedata.normalize("NFKC", text)))

    @cached_property
    def _name_pattern(self) -> re.Pattern | None:
        return re.compile(re.escape(self.name), re.IGNORECASE) if self.name else None

    def in_name(self, name: str) -> str:
        return mark_part(name, self._name_pattern)

    def in_number(self, number: str) -> str:
        return mark_whole(number, self.number, normalise=normalise_customer_no)

    def in_email(self, email: str) -> str:
        return mark_whole(email, self.email, normalise=str.lower)

    def in_phone(self, shown: str) -> str:
        return mark_phone_end(shown, self.digits)


def mark_part(text: str, pattern: re.Pattern | None) -> SafeString:
    """``text`` escaped, each match of ``pattern`` (case-insensitive) marked."""
    text = text or ""
    if pattern is None:
        return mark_safe(escape(text))  # noqa: S308 (escaped)
    out, last = [], 0
    for found in pattern.finditer(text):
        if found.end() == found.start():
            continue
        out.append(escape(text[last : found.start()]))
        out.append(MARK.format(escape(found.group())))
        last = found.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 (every piece escaped)


def mark_whole(text: str, wanted: str, *, normalise=str) -> SafeString:
    """``text`` escaped, all of it marked when it is ``wanted`` (both normalised alike)."""
    text = text or ""
    shown = escape(text)
    if wanted and text and normalise(text) == normalise(wanted):
        shown = MARK.format(shown)
    return mark_safe(shown)  # noqa: S308 (escaped)


def mark_phone_end(shown: str, digits: str) -> SafeString:
    """A phone as shown (``+86 138 1234 5678``, or masked ``+86138****5678``), escaped, its end
    marked when it ends with ``digits`` (spaces and dashes between them are skipped). A masked
    phone marks the visible digits when they end the search's digits."""
    shown = shown or ""
    if len(digits) < MIN_PHONE_DIGITS or not shown:
        return mark_safe(escape(shown))  # noqa: S308 (escaped)
    wanted = list(reversed(digits))
    matched, start, position = 0, len(shown), len(shown) - 1
    while position >= 0 and matched < len(wanted):
        char = shown[position]
        if char.isdigit():
            if char != wanted[matched]:
                break
            matched, start = matched + 1, position
        elif char not in " -()":
            break
        position -= 1
    masked_before = position >= 0 and shown[position] == "*"
    if matched == len(wanted) or (masked_before and matched >= MIN_PHONE_DIGITS):
        return mark_safe(escape(shown[:start]) + MARK.format(escape(shown[start:])))  # noqa: S308 (escaped)
    return mark_safe(escape(shown))  # noqa: S308 (escaped)
