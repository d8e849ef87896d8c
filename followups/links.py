"""The links a message carries: the exit survey and the one-click unsubscribe.

Each carries the follow-up's random ``key`` (a UUID, not its id), signed with SECRET_KEY, and no
personal data. A survey link expires (FOLLOWUP_SURVEY_DAYS, default 30) and is single-use (the
follow-up's ``answered_at``); an unsubscribe link never expires, so an old message still lets the
customer say no.

    survey_url(followup) -> absolute URL          survey_followup(token) -> Followup (LinkError)
    unsubscribe_url(followup) -> absolute URL     unsubscribe_followup(token) -> Followup (LinkError)
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Followup

SURVEY_SALT = "followups.survey"
UNSUBSCRIBE_SALT = "followups.unsubscribe"


class LinkError(Exception):
    """The link is not one of ours (``expired`` False) or is too old (``expired`` True)."""

    def __init__(self, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def survey_days() -> int:
    return int(getattr(settings, "FOLLOWUP_SURVEY_DAYS", 30))


def absolute(path: str) -> str:
    """``path`` on the site's public address (SITE_URL, e.g. https://crm.example.com)."""
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/") + path


def survey_token(followup: Followup) -> str:
    return signing.TimestampSigner(salt=SURVEY_SALT).sign(followup.key.hex)


def unsubscribe_token(followup: Followup) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(followup.key.hex)


def survey_url(followup: Followup) -> str:
    return absolute(reverse("followups:survey", kwargs={"token": survey_token(followup)}))


def unsubscribe_url(followup: Followup) -> str:
    return absolute(reverse("followups:unsubscribe", kwargs={"token": unsubscribe_token(followup)}))


def survey_followup(token: str) -> Followup:
    try:
        key = signing.TimestampSigner(salt=SURVEY_SALT).unsign(token, max_age=timedelta(days=survey_days()))
    except signing.SignatureExpired as exc:
        raise LinkError(expired=True) from exc
    except signing.BadSignature as exc:
        raise LinkError() from exc
    return _by_key(key)


def unsubscribe_followup(token: str) -> Followup:
    try:
        key = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature as exc:
        raise LinkError() from exc
    return _by_key(key)


def _by_key(key: str) -> Followup:
    try:
        return Followup.objects.select_related("customer", "closure").get(key=uuid.UUID(hex=key))
    except (ValueError, Followup.DoesNotExist) as exc:
        raise LinkError() from exc
