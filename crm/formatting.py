"""How amounts read, on pages and in messages: the currency sign, the locale's grouping, 2 decimals.

``money(Decimal("1000.5"))`` is "¥1,000.50" and ``money(-12)`` is "-¥12.00", in the active
language's number format (crm/formats/<language>/formats.py) with the sign of the
CRM_CURRENCY_SYMBOL setting (environment variable CURRENCY_SYMBOL, "¥" by default). Templates
use the same function through ``{% load money %}{{ amount|money }}``.
"""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import translation
from django.utils.formats import number_format


def in_language(label_en: str, label_zh: str) -> str:
    """A label in the active language, or in the other one when it has none (one language is enough)."""
    lang = translation.get_language() or ""
    first, second = (label_zh, label_en) if lang.lower().startswith("zh") else (label_en, label_zh)
    return first or second


def currency_symbol() -> str:
    return getattr(settings, "CRM_CURRENCY_SYMBOL", "¥")


def money(value) -> str:
    """``value`` as an amount: "¥1,000.55", "-¥12.00"; "" for None or anything that is not a number."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency_symbol()}{number_format(abs(amount), 2, force_grouping=True)}"
