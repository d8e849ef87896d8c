"""Reading one cell of a historical closures file: the action, the date, the reason or category, the performer.

Each reader returns the domain value or raises ``ValueError`` with a message for the preview's
problem list. The reason, category and performer readers work on tables read once per file
(reasons and users are small tables), so checking a row costs no query.
"""

import datetime as dt
import functools
import re
import unicodedata
from collections import defaultdict

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.columns import normalise_key

from ..models import Action, Category, ClosureReason
from ..rules import CLOSING_ACTIONS, MAX_NOTES

EARLIEST = dt.date(1900, 1, 1)
MAX_PERFORMER = 150

_ACTION_WORDS = {
    Action.CLOSE: ("close", "closed", "销卡"),
    Action.VOID: ("void", "voided", "作废"),
    Action.ARCHIVE: ("archive", "archived", "归档"),
    Action.ERASE: ("erase", "erased", "delete", "deleted", "删除", "注销个人信息"),
}

_MOMENT = re.compile(
    r"(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?|(\d{2})(\d{2}))"
    r"(?:(?:\s+|T)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
)


def text(value) -> str:
    """A cell as trimmed text (whole numbers without ".0")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _labels(choice) -> list[str]:
    words = []
    for language in ("en", "zh-hans"):
        with translation.override(language):
            words.append(str(choice.label))
    return words


@functools.cache
def _action_words() -> dict[str, str]:
    """Every word for an action (its key, English and Chinese words, its labels in both languages) -> the action."""
    return {
        normalise_key(word): str(action)
        for action in (*CLOSING_ACTIONS, Action.ERASE)
        for word in (*_ACTION_WORDS[action], *_labels(action))
    }


def action_of(value) -> str:
    """close, void or archive, from a key or a word in English or Chinese; deletion is refused."""
    action = _action_words().get(normalise_key(text(value)))
    if action == Action.ERASE:
        raise ValueError(
            _(
                "Deleting a card's personal data is not history and cannot be imported; "
                "delete it on its card. Choose close, void or archive."
            )
        )
    if action is None:
        raise ValueError(
            _("“%(value)s” is not an action; write close, void or archive (or 销卡, 作废, 归档).")
            % {"value": text(value)[:40]}
        )
    return action


def moment_of(value, *, now: dt.datetime | None = None) -> dt.datetime:
    """The moment a closure happened: a date (local midnight, settings.TIME_ZONE) or a date and time.

    Not in the future and not before 1900; the card's "customer since" is checked with the card.
    """
    zone = timezone.get_default_timezone()
    if isinstance(value, dt.datetime):
        naive = value.replace(tzinfo=None) if timezone.is_aware(value) else value
    elif isinstance(value, dt.date):
        naive = dt.datetime.combine(value, dt.time.min)
    else:
        naive = _parse(text(value))
    if naive.date() < EARLIEST:
        raise ValueError(_("%(date)s is before 1900.") % {"date": naive.date().isoformat()})
    moment = timezone.make_aware(naive, zone)
    if moment > (now or timezone.now()):
        raise ValueError(_("%(date)s is in the future.") % {"date": f"{naive:%Y-%m-%d %H:%M}"})
    return moment


def _parse(written: str) -> dt.datetime:
    found = _MOMENT.fullmatch(written)
    if found:
        year, *rest = found.groups()
        month, day = next((m, d) for m, d in zip(rest[0:6:2], rest[1:6:2], strict=True) if m)
        hour, minute, second = rest[6], rest[7], rest[8]
        try:
            return dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        except ValueError:
            pass
    raise ValueError(
        _("“%(value)s” is not a date; use YYYY-MM-DD, for example 2021-03-05, optionally with a time (14:30).")
        % {"value": written[:40]}
    )


def notes_of(value) -> str:
    written = text(value)
    if len(written) > MAX_NOTES:
        raise ValueError(
            _("Notes can be at most %(max)s characters (these have %(count)s).")
            % {"max": f"{MAX_NOTES:,}", "count": f"{len(written):,}"}
        )
    return written


def category_keys() -> dict[str, str]:
    """Every way a file may name a reason category (its key, its English and Chinese labels) -> its key.

    The one place the import reads categories; it moves to the categories table when categories
    become data.
    """
    table = {}
    for choice in Category:
        for word in (choice.value, *_labels(choice)):
            table[normalise_key(word)] = choice.value
    return table


class Reasons:
    """Every reason, read once per file, and how a row's reason or category becomes one reason."""

    def __init__(self):
        self.all = list(ClosureReason.objects.order_by("display_order", "id"))
        self.named: dict[str, list[ClosureReason]] = defaultdict(list)
        for reason in self.all:
            for key in {normalise_key(word) for word in (reason.code, reason.label_en, reason.label_zh) if word}:
                self.named[key].append(reason)
        self.categories = category_keys()

    def category(self, value) -> str:
        key = self.categories.get(normalise_key(text(value)))
        if key is None:
            raise ValueError(
                _("“%(value)s” is not a reason category; use a key or a label as on the Reasons page.")
                % {"value": text(value)[:40]}
            )
        return key

    def by_name(self, value, action: str) -> ClosureReason:
        """The reason a cell names (a code, or a label in either language) that is meant for ``action``."""
        written = text(value)
        found = self.named.get(normalise_key(written), [])
        by_code = [reason for reason in found if reason.code == written]
        found = by_code or found
        if not found:
            raise ValueError(
                _("No reason has the code or label “%(value)s”; see the Reasons page.") % {"value": written[:40]}
            )
        fitting = [reason for reason in found if reason.applies_to(action)]
        if not fitting:
            raise ValueError(
                _("The reason “%(reason)s” is not meant for “%(action)s”.")
                % {"reason": found[0].label, "action": Action(action).label}
            )
        active = [reason for reason in fitting if reason.is_active]
        if not active:
            raise ValueError(
                _(
                    "The reason “%(reason)s” is retired. Reactivate it on the Reasons page for the import "
                    "(and retire it again afterwards), or choose another reason."
                )
                % {"reason": fitting[0].label}
            )
        if len(active) > 1:
            raise ValueError(
                _("Several reasons are called “%(value)s”; write the reason's code instead (%(codes)s).")
                % {"value": written[:40], "codes": ", ".join(reason.code for reason in active)}
            )
        return _not_duplicate(active[0])

    def first_in(self, category: str, action: str) -> ClosureReason:
        """The category's first active reason for ``action`` by display order (only a category was given)."""
        for reason in self.all:
            if reason.category == category and reason.is_active and reason.applies_to(action):
                return _not_duplicate(reason)
        raise ValueError(
            _("The category “%(category)s” has no active reason for “%(action)s”; give a reason instead.")
            % {"category": Category(category).label, "action": Action(action).label}
        )


def _not_duplicate(reason: ClosureReason) -> ClosureReason:
    """A void as a duplicate needs the surviving card, which this file does not give (as in bulk closing)."""
    if reason.category == Category.DUPLICATE:
        raise ValueError(
            _("Voiding as a duplicate needs the surviving card of each record; void duplicates one by one.")
        )
    return reason


def _name_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


class Performers:
    """Users by username and by full name, read once per file, to tell who performed a closure."""

    def __init__(self, users):
        self.usernames: dict[str, object] = {}
        self.folded: dict[str, list] = defaultdict(list)
        self.names: dict[str, list] = defaultdict(list)
        for user in users:
            self.usernames[user.username] = user
            self.folded[user.username.casefold()].append(user)
            first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
            if first or last:
                for name in {f"{first} {last}", f"{last} {first}", f"{last}{first}"}:
                    if user not in self.names[_name_key(name)]:
                        self.names[_name_key(name)].append(user)

    def find(self, value) -> tuple[object | None, str, bool]:
        """(the user, "") when the text names exactly one user; (None, the text as written) otherwise.

        The third value is True when the text is a full name shared by several users.
        """
        written = text(value)
        if len(written) > MAX_PERFORMER:
            raise ValueError(
                _("A name can have at most %(max)d characters; this one has %(count)d.")
                % {"max": MAX_PERFORMER, "count": len(written)}
            )
        if written in self.usernames:
            return self.usernames[written], "", False
        for table in (self.folded, self.names):
            matches = table.get(_name_key(written) if table is self.names else written.casefold(), [])
            if len(matches) == 1:
                return matches[0], "", False
            if len(matches) > 1:
                return None, written, True
        return None, written, False
