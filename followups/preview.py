"""What the policy page shows beside a message template: the placeholders and what they mean, the
template filled with a sample customer in its language, and how many SMS segments it takes.

    placeholders() -> [("{name}", meaning)]   every placeholder and what it stands for
    sample_values(language) -> dict           张伟 / Zhang Wei, a card number, a settlement sentence, links
    preview(template) -> Message              the template filled with the sample of its language
    sms_length(text) -> SmsLength             characters, segments and the size of one segment
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closures.settlement import words as settlement_words
from crm.formatting import money

from . import links, messages

PLACEHOLDER_MEANINGS = {
    "name": gettext_lazy("the customer's name"),
    "customer_no": gettext_lazy("the card's number"),
    "settlement": gettext_lazy("what happened to the balance and points, as a sentence"),
    "survey_link": gettext_lazy("the link to the exit survey (signed, expires, works once)"),
    "unsubscribe_link": gettext_lazy("one click to stop this kind of message"),
    "company": gettext_lazy("the company's name"),
}


def placeholders() -> list[tuple[str, str]]:
    """("{name}", "the customer's name"), … for every placeholder a template may use."""
    return [("{" + name + "}", str(PLACEHOLDER_MEANINGS.get(name, ""))) for name in messages.PLACEHOLDERS]


SAMPLE_NAMES = {"en": "Zhang Wei", "zh-hans": "张伟"}
SAMPLE_CARD = "C000123"
SAMPLE_TOKEN = "sample-link"  # noqa: S105 (not a secret: the preview's stand-in for a signed link)

# GSM 03.38: a text only in these characters goes 160 to an SMS (153 when split); any other
# character (Chinese) makes the whole text UCS-2, 70 to an SMS (67 when split).
GSM_CHARACTERS = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("^{}\\[~]|€")  # two characters each


def _link(name: str) -> str:
    try:
        return links.absolute(reverse(f"followups:{name}", kwargs={"token": SAMPLE_TOKEN}))
    except NoReverseMatch:  # the public pages are not there yet
        return links.absolute(f"/followups/{name}/{SAMPLE_TOKEN}/")


def sample_values(language: str) -> dict[str, str]:
    """The sample customer's values, in ``language``: 张伟 in Chinese, Zhang Wei in English."""
    with translation.override(language):
        settlement = _("The balance of %(amount)s on your card was %(how)s.") % {
            "amount": money(Decimal("1280.00")),
            "how": settlement_words("refund", "wechat"),
        }
    return {
        "name": SAMPLE_NAMES.get(language, SAMPLE_NAMES["en"]),
        "customer_no": SAMPLE_CARD,
        "settlement": settlement,
        "survey_link": _link("survey"),
        "unsubscribe_link": _link("unsubscribe"),
        "company": messages.company(),
    }


def preview(template) -> messages.Message:
    """``template`` (saved or not) filled with the sample customer of its language."""
    return messages.render(template, sample_values(template.language))


@dataclass(frozen=True)
class SmsLength:
    characters: int
    segments: int
    per_segment: int  # 160 (GSM) or 70 (Chinese, UCS-2) for a single message
    gsm: bool


def sms_length(text: str) -> SmsLength:
    """How long ``text`` is as an SMS: in GSM characters when it can be, else UCS-2 (Chinese)."""
    gsm = all(ch in GSM_CHARACTERS or ch in GSM_EXTENSION for ch in text)
    if gsm:
        length = sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
        single, part = 160, 153
    else:
        length = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)  # UTF-16 code units
        single, part = 70, 67
    segments = 1 if length <= single else math.ceil(length / part)
    return SmsLength(characters=length, segments=segments, per_segment=single, gsm=gsm)
