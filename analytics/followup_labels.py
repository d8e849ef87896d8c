"""Labels for the follow-up figures (analytics/followups.py) in the active language, and the closure
list's drill-down to the customer's own reason (``?own=<reason id>|other|none``): the closures one
cell of the stated-vs-own matrix counts."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils import translation
from django.utils.translation import gettext

from closures import categories as reason_categories
from closures.models import Closure, ClosureReason
from followups.models import Answer

from .filters import person_name

OWN_PARAM = "own"
OTHER, NONE = "other", "none"


# --- labels --------------------------------------------------------------------------------
class Labels:
    """Reason, owner and category labels in the active language, looked up once for the few keys found."""

    def __init__(self, db: str):
        self.db = db
        self.zh = (translation.get_language() or "").lower().startswith("zh")
        self.categories = reason_categories.labels(using=db)
        self.reasons: dict[int, tuple[str, bool, str]] = {}
        self.codes: dict[int, str] = {}

    def load_reasons(self, ids) -> None:
        wanted = [pk for pk in ids if pk is not None and pk not in self.reasons]
        rows = ClosureReason.objects.using(self.db).filter(pk__in=wanted)
        for pk, en, zh, code, active, category in rows.values_list(
            "pk", "label_en", "label_zh", "code", "is_active", "category"
        ):
            self.reasons[pk] = ((zh if self.zh and zh else en) or code, active, category)
            self.codes[pk] = code

    def reason(self, pk) -> str:
        label, active, _category = self.reasons.get(pk, (str(pk), True, ""))
        return label if active else gettext("%(label)s (retired)") % {"label": label}

    def retired(self, pk) -> bool:
        return not self.reasons.get(pk, ("", True, ""))[1]

    def reason_category(self, pk) -> str:
        category = self.reasons.get(pk, ("", True, ""))[2]
        return str(self.categories.get(category, category))

    def category(self, key) -> str:
        return str(self.categories.get(key, key))

    def owners(self, ids) -> dict:
        users = get_user_model().objects.using(self.db).filter(pk__in=[i for i in ids if i is not None])
        names = {
            pk: person_name(first, last, username)
            for pk, username, first, last in users.values_list("pk", "username", "first_name", "last_name")
        }
        names[None] = gettext("No owner")
        return names


# --- the closure list's drill-down ----------------------------------------------------------
def own_reason_closures(value: str | None, *, using: str):
    """The closures whose customer gave ``value`` as their own reason (a reason id, "other" or
    "none"), as a queryset for ClosureFilter(queryset=...); None when ``value`` is empty or unknown."""
    if not value:
        return None
    answers = Answer.objects.using(using).filter(closure=OuterRef("pk"))
    if value == OTHER:
        answers = answers.filter(reason__isnull=True).exclude(other_reason="")
    elif value == NONE:
        answers = answers.filter(reason__isnull=True, other_reason="")
    elif value.isdigit() and len(value) <= 18:  # longer: no reason's id (and too big for the database)
        answers = answers.filter(reason_id=int(value))
    else:
        return None
    return Closure.objects.using(using).filter(Exists(answers))


def own_reason_text(value: str | None, *, using: str) -> str:
    """The drill-down in words, for the closure list's heading."""
    if value == OTHER:
        label = gettext("Other")
    elif value == NONE:
        label = gettext("No reason given")
    else:
        labels = Labels(using)
        labels.load_reasons([int(value)])
        label = labels.reason(int(value))
    return gettext("The customer's own reason: %(reason)s") % {"reason": label}
