"""The words of a message: a MessageTemplate filled with the customer's own details.

Placeholders are written ``{name}`` in a template's subject and text:

    {name}             the customer's name
    {customer_no}      the card's number
    {settlement}       what happened to the balance and points (closures.settlement.words)
    {survey_link}      the exit survey (followups.links: signed, expiring, single-use)
    {unsubscribe_link} one click to stop this kind of message
    {company}          the company's name (settings.CRM_COMPANY_NAME)

``problems(text)`` lists what is wrong with a template (an unknown placeholder, an unclosed
brace), so the policy page can say so next to the field. ``render`` inserts the values as they
are: plain text; the HTML part of an e-mail escapes them (followups/sending.py).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

PLACEHOLDERS = ("name", "customer_no", "settlement", "survey_link", "unsubscribe_link", "company")


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


def problems(text: str) -> list[str]:
    """What is wrong with a template's text, in words (empty: nothing)."""
    try:
        fields = [field for _literal, field, _spec, _conv in string.Formatter().parse(text or "") if field is not None]
    except ValueError:
        return [_("A brace { or } is not closed; write {{ or }} for a brace itself.")]
    found = []
    for field in fields:
        if field not in PLACEHOLDERS:
            found.append(
                _("Unknown placeholder {%(field)s}; use one of: %(known)s.")
                % {"field": field, "known": ", ".join("{" + p + "}" for p in PLACEHOLDERS)}
            )
    return found


def company() -> str:
    return getattr(settings, "CRM_COMPANY_NAME", "") or "CRM"


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with its placeholders replaced by ``values`` (missing ones empty), inserted verbatim."""
    return string.Formatter().vformat(text or "", (), _Values(values))


def render(template, values: dict[str, str]) -> Message:
    """The subject (one line) and the text of ``template`` filled with ``values``."""
    subject = " ".join(fill(template.subject, values).split())  # no line breaks: no header injection
    return Message(subject=subject, text=fill(template.body, values))


class _Values(dict):
    def __init__(self, values):
        super().__init__(dict.fromkeys(PLACEHOLDERS, ""))
        self.update({k: "" if v is None else str(v) for k, v in values.items()})
        self.setdefault("company", company())
        if not self["company"]:
            self["company"] = company()

    def __missing__(self, key):
        return ""
