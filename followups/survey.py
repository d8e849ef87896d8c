"""The exit survey a customer answers from the link in their message (public page, no login).

What it asks: why they left (the reasons staff close cards with, in the customer's words, plus
"something else" with text), how satisfied they were (CSAT 1-5), whether they would recommend us
(NPS 0-10), what would bring them back, and whether we may contact them again. Every question is
optional, but an empty answer is refused: it would use up the single-use link for nothing.

The staff labels of the reasons are internal ("Price too high"); the customer reads
``WORDINGS`` ("The price was too high for me" / "价格对我来说太高了", the Chinese in the catalogue).
A reason an Admin added reads as its own label; the ones a customer cannot sensibly pick
("Customer deceased", staff's own "Other") are left out.

    reasons() -> the reasons offered             SurveyForm(data, offered=reasons()).answer() -> keywords
    language_for(followup, asked) -> "en"|...    unavailable(followup) -> why the link cannot be answered
    too_many_posts(request, token) -> bool        (10 POSTs per 10 minutes per link, 60 per IP address)
    expired_followup(token) -> the follow-up of a too-old link (for its language), or None
"""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from closures.models import ClosureReason
from crm.middleware import client_ip

from .links import SURVEY_SALT, LinkError, _by_key
from .models import Followup

# The default reasons (closures migration 0002) in the customer's words; None: not offered.
WORDINGS = {
    "customer-request": _("I no longer needed the card"),
    "competitor": _("I switched to another company"),
    "price": _("The price was too high for me"),
    "service": _("I was unhappy with the service"),
    "product": _("The products did not meet my needs"),
    "moved-away": _("I moved away"),
    "company-left-market": _("My company moved or left the market"),
    "business-closed": _("My business closed down"),
    "long-inactive": _("I hardly used it any more"),
    "deceased": None,
    "other": None,  # the survey's own "Something else" stands for it
}
OTHER = "other"
YES, NO = "yes", "no"

# POSTs allowed per RATE_WINDOW seconds for one link, and from one IP address. An address gets more:
# Chinese mobile carriers put many phones behind one address (carrier-grade NAT), and a survey sent
# to thousands of customers at once should not lock the later ones out.
RATE_LIMIT = 10
RATE_LIMIT_PER_IP = 60
RATE_WINDOW = 10 * 60


def wording(reason: ClosureReason) -> str:
    said = WORDINGS.get(reason.code)
    return str(said) if said else reason.label


def reasons() -> list[ClosureReason]:
    """The active reasons for closing a card that a customer could give, in the Admins' order."""
    offered = ClosureReason.objects.active().for_action("close").order_by("display_order", "pk")
    return [reason for reason in offered if WORDINGS.get(reason.code, True) is not None]


def other_reason() -> ClosureReason | None:
    """The reason an answer of "something else" is filed under (staff's "Other"), when there is one."""
    return ClosureReason.objects.filter(code=OTHER).first()


def asked_language(value: str) -> str:
    """``?lang=`` when it names one of our languages, else ""."""
    return value if value in dict(settings.LANGUAGES) else ""


def other_languages(current: str) -> list[dict]:
    """The languages to switch to, each named in itself ("English", "简体中文")."""
    return [translation.get_language_info(code) | {"code": code} for code, _n in settings.LANGUAGES if code != current]


def language_for(followup, asked: str = "") -> str:
    """The language the customer asked for on the page, else the follow-up's, else the card's."""
    codes = [code for code, _name in settings.LANGUAGES]
    for candidate in (asked, followup.language if followup else "", followup.customer.language if followup else ""):
        if candidate in codes:
            return candidate
    return settings.LANGUAGE_CODE


def greeting_name(customer) -> str:
    """The name to greet with: a Western first name ("Anna" of "Anna Smith"), a Chinese name whole;
    none for an erased card (its name is a marker now)."""
    name = "" if customer.is_erased else (customer.name or "").strip()
    return name.split()[0] if " " in name else name


def unavailable(followup) -> str:
    """Why this follow-up's survey can no longer be answered: "answered", "gone" (the card was
    erased, or the closure reinstated, or the follow-up cancelled), or "" when it can."""
    if followup.answered_at is not None:
        return "answered"
    if followup.customer.is_erased or followup.closure.reverted_at is not None:
        return "gone"
    if followup.state == Followup.State.CANCELLED:
        return "gone"
    return ""


def too_many_posts(request, token: str) -> bool:
    """Count this POST against its IP address and its link; True once either is over the limit."""
    # Per follow-up: the token's signed value (its key), not the whole token, whose timestamp differs
    # between two links made for the same follow-up. A forged value fails the signature anyway.
    link = hashlib.sha256(token.split(":", 1)[0].encode()).hexdigest()[:32]
    limits = {f"survey-post:ip:{client_ip(request)}": RATE_LIMIT_PER_IP, f"survey-post:link:{link}": RATE_LIMIT}
    over = False
    for key, limit in limits.items():
        cache.add(key, 0, RATE_WINDOW)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, RATE_WINDOW)
            count = 1
        over = over or count > limit
    return over


class SurveyForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why did you leave us?"), required=False, widget=forms.RadioSelect)
    other_reason = forms.CharField(
        label=_("Something else? Tell us in your own words"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    csat = forms.TypedChoiceField(
        label=_("How satisfied were you with us overall?"),
        help_text=_("1 = very dissatisfied, 5 = very satisfied"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a friend?"),
        help_text=_("0 = not at all likely, 10 = extremely likely"),
        choices=[(n, str(n)) for n in range(0, 11)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    come_back = forms.CharField(
        label=_("What would bring you back?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    contact_again = forms.TypedChoiceField(
        label=_("May we contact you again with news and offers?"),
        choices=[(YES, _("Yes, you may contact me")), (NO, _("No, please do not contact me"))],
        coerce=lambda value: value == YES,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, offered: list[ClosureReason], **kwargs):
        super().__init__(*args, **kwargs)
        self.offered = {str(reason.pk): reason for reason in offered}
        self.fields["reason"].choices = [(pk, wording(reason)) for pk, reason in self.offered.items()] + [
            (OTHER, _("Something else"))
        ]

    def clean(self):
        data = super().clean()
        other_text = (data.get("other_reason") or "").strip()
        if data.get("reason") == OTHER and not other_text and "other_reason" not in self.errors:
            self.add_error("other_reason", _("Please tell us in a few words, or choose one of the reasons above."))
        if not self.errors and not self.answer():
            raise forms.ValidationError(_("Please answer at least one question."), code="empty")
        return data

    def answer(self) -> dict:
        """The cleaned answer as record_answer's keywords (after is_valid)."""
        data = self.cleaned_data
        chosen = data.get("reason") or ""
        other_text = (data.get("other_reason") or "").strip()
        if chosen == OTHER or (not chosen and other_text):
            reason = other_reason()
        else:
            reason = self.offered.get(chosen)
        answer = {
            "reason": reason,
            "other_reason": other_text,
            "csat": data.get("csat"),
            "nps": data.get("nps"),
            "come_back": (data.get("come_back") or "").strip(),
            "contact_again": data.get("contact_again"),
        }
        return answer if any(value not in (None, "") for value in answer.values()) else {}


def expired_followup(token: str):
    """The follow-up of a link that is ours but too old (to answer in its language), or None."""
    try:
        return _by_key(signing.TimestampSigner(salt=SURVEY_SALT).unsign(token))
    except (signing.BadSignature, LinkError):
        return None
