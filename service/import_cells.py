"""Reading one cell of a historical tickets file. Each reader returns the domain value or raises
``ValueError`` with the message the preview shows next to its line and column. The lookups
(categories, teams, users) are tables read once per file, so checking a row costs no query."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import Team
from customers.columns import normalise_key

from .models import Category, Channel, Priority, Status, Step

EARLIEST = dt.date(1990, 1, 1)
STEP_KINDS = (Step.Kind.WORK, Step.Kind.NOTE, Step.Kind.REPLY)
_MOMENT = re.compile(
    r"(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?)"
    r"(?:(?:\s+|T)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
)


def text(value) -> str:
    """A cell as trimmed text (whole numbers without ".0")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def moment_of(value, *, now: dt.datetime | None = None) -> dt.datetime:
    """A date (local midnight) or a date and time, in the site's time zone; not in the future."""
    zone = timezone.get_default_timezone()
    if isinstance(value, dt.datetime):
        naive = value.replace(tzinfo=None) if timezone.is_aware(value) else value
    elif isinstance(value, dt.date):
        naive = dt.datetime.combine(value, dt.time.min)
    else:
        naive = _parse(text(value))
    if naive.date() < EARLIEST:
        raise ValueError(_("%(date)s is before 1990.") % {"date": naive.date().isoformat()})
    moment = timezone.make_aware(naive, zone)
    if moment > (now or timezone.now()):
        raise ValueError(_("%(date)s is in the future.") % {"date": f"{naive:%Y-%m-%d %H:%M}"})
    return moment


def _parse(written: str) -> dt.datetime:
    found = _MOMENT.fullmatch(written)
    if found:
        year, m1, d1, m2, d2, hour, minute, second = found.groups()
        try:
            return dt.datetime(
                int(year), int(m1 or m2), int(d1 or d2), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            pass
    raise ValueError(
        _("“%(value)s” is not a date; use YYYY-MM-DD, for example 2024-03-05, optionally with a time (14:30).")
        % {"value": written[:40]}
    )


def _choice_words(choices, extra: dict | None = None) -> dict[str, str]:
    """Every word for a choice: its key and its labels in English and Chinese."""
    words = {}
    for code, label in choices:
        words[normalise_key(code)] = code
        for language in ("en", "zh-hans"):
            with translation.override(language):
                words[normalise_key(str(label))] = code
    for word, code in (extra or {}).items():
        words[normalise_key(word)] = code
    return words


class Lookups:
    """The tables a file's rows are checked against, read once."""

    def __init__(self):
        self.channels = _choice_words(Channel.choices, {"电话": "phone", "邮件": "email", "微信": "wechat"})
        self.priorities = _choice_words(Priority.choices)
        self.statuses = _choice_words(Status.choices)
        self.kinds = _choice_words([(k.value, k.label) for k in STEP_KINDS])
        self.categories = {}
        for category in Category.objects.all():
            for word in (category.key, category.label_en, category.label_zh):
                self.categories.setdefault(normalise_key(word), category)
        self.teams = {}
        for team in Team.objects.all():
            for word in (team.name_en, team.name_zh):
                self.teams.setdefault(normalise_key(word), team)
        self.users = {}
        for user in get_user_model().objects.filter(is_active=True):
            for word in (user.get_username(), user.get_full_name(), f"{user.last_name}{user.first_name}"):
                if word.strip():
                    self.users.setdefault(normalise_key(word), user)

    @staticmethod
    def _find(table, value, message):
        found = table.get(normalise_key(text(value)))
        if found is None:
            raise ValueError(message % {"value": text(value)[:40]})
        return found

    def channel(self, value):
        return self._find(
            self.channels, value, _("“%(value)s” is not a channel; write phone, email, wechat, store or web.")
        )

    def priority(self, value):
        return self._find(
            self.priorities, value, _("“%(value)s” is not a priority; write low, normal, high or urgent.")
        )

    def status(self, value):
        return self._find(
            self.statuses,
            value,
            _("“%(value)s” is not a status; write new, assigned, in_progress, waiting, resolved, closed or cancelled."),
        )

    def kind(self, value):
        return self._find(self.kinds, value, _("“%(value)s” is not a kind of step; write work, note or reply."))

    def category(self, value):
        return self._find(self.categories, value, _("There is no ticket category “%(value)s”."))

    def team(self, value):
        return self._find(self.teams, value, _("There is no team “%(value)s”."))

    def user(self, value):
        return self._find(self.users, value, _("There is no user “%(value)s”; give a username or a full name."))


def minutes_of(value) -> int:
    try:
        minutes = int(text(value))
    except ValueError:
        raise ValueError(_("“%(value)s” is not a number of minutes.") % {"value": text(value)[:40]}) from None
    if not 0 <= minutes <= 24 * 60:
        raise ValueError(_("Minutes must be between 0 and 1440."))
    return minutes
