"""How each cell of a customer spreadsheet is read (django-import-export).

The columns themselves, and the header names that mean each of them, are in customers/columns.py.
:class:`CustomerResource` gives each column the widget that turns one cell into a model value
or raises ``ValueError`` with a message a user can act on ("This mobile number has 10 digits;
Chinese mobiles have 11."). ``import_id_fields`` is ``customer_no``, so a row whose number
exists updates that customer instead of adding one.

customers.imports drives the widgets row by row and writes in bulk through the card gate (see
its docstring for why it does not go through ``Resource.import_data``). The resource's own
``import_data`` is refused: it would write cards around the gate (no status check, no audit).

Rules every widget follows:
- An empty cell is ``None``: it never erases data. A new customer gets the field's default,
  an existing one keeps its value (the resource's fields do not save ``None``).
- Text is stripped; it may contain anything but a NUL character (PostgreSQL refuses those),
  and it is stored as typed: HTML in a name stays text, templates escape it.
- Numbers typed into text columns in Excel (a customer number 1001, a phone 13812345678)
  are read back as the digits, never as "1001.0" or "1.38E+10".
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from .columns import (
    CARD_COLUMN_NAMES,
    CHOICE_SYNONYMS,
    COLUMNS,
    CONSENT_COLUMNS,
    NO_WORDS,
    YES_WORDS,
    Column,
    normalise_key,
)
from .models import Customer, Tag
from .numbers import clean_customer_no
from .phones import normalise_phone
from .since import EARLIEST, months_before

BALANCE_MAX = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
POINTS_MAX = 2_147_483_647  # the largest IntegerField value on every database
TAG_SEPARATORS = re.compile(r"[,，;；、]")


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M")
_EARLIEST = EARLIEST


def _as_text(value) -> str:
    """A cell as text: Excel numbers that are whole print without ".0"; dates as YYYY-MM-DD."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time.min else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _message(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)


class TextWidget(widgets.CharWidget):
    """Text up to ``max_length`` characters; None for an empty cell (or an error when required)."""

    def __init__(self, max_length: int, *, required: bool = False, pattern: str | None = None, pattern_help=""):
        super().__init__(allow_blank=False)
        self.max_length = max_length
        self.required = required
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_help = pattern_help

    def clean(self, value, row=None, **kwargs):
        text = value.strip() if type(value) is str else ("" if value is None else _as_text(value))
        if not text:
            if self.required:
                raise ValueError(_("This column is required; the cell is empty."))
            return None
        if len(text) > self.max_length:
            raise ValueError(
                _("%(length)d characters; the maximum is %(max)d.") % {"length": len(text), "max": self.max_length}
            )
        if "\x00" in text:
            raise ValueError(_("The text contains a NUL character, which cannot be stored."))
        if self.pattern and not self.pattern.fullmatch(text):
            raise ValueError(str(self.pattern_help))
        return text


def _chinese_mobile_pattern() -> re.Pattern:
    from phonenumbers import PhoneMetadata

    return re.compile(PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern)


class PhoneWidget(TextWidget):
    """A mobile number, normalised to E.164 by customers.phones (the same rule as the card form).

    Plain 11-digit Chinese mobiles, most of any file, take a shortcut: the number is matched
    against libphonenumber's own pattern for Chinese mobiles, which is what normalise_phone
    ends up checking for them, at a hundredth of the cost (tests compare the two).
    Everything else, and every error message, comes from normalise_phone.
    """

    def __init__(self):
        super().__init__(40)
        self.mobile = _chinese_mobile_pattern()

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs)
        if text is None:
            return None
        national = text[3:] if text.startswith("+86") else text
        if len(national) == 11 and national.isdigit() and national.isascii() and self.mobile.fullmatch(national):
            return "+86" + national
        try:
            return normalise_phone(text) or None
        except ValidationError as error:
            raise ValueError(_message(error)) from None


class EmailWidget(TextWidget):
    def __init__(self):
        super().__init__(254)

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs)
        if text is None:
            return None
        try:
            validate_email(text)
        except ValidationError:
            raise ValueError(_("“%(value)s” is not a valid email address.") % {"value": text}) from None
        return text


class ChoiceWidget(widgets.Widget):
    """A choice given as its code, its English or Chinese label, or a common synonym."""

    def __init__(self, field_name: str, choices):
        super().__init__()
        self.field_name = field_name
        self.choices = choices
        self._lookup: dict[str, str] | None = None

    def lookup(self) -> dict[str, str]:
        if self._lookup is None:
            table: dict[str, str] = {}
            for code, words in CHOICE_SYNONYMS.get(self.field_name, {}).items():
                for word in words:
                    table[normalise_key(word)] = code
            for code, label in self.choices:
                for language in ("en", "zh-hans"):
                    with translation.override(language):
                        table[normalise_key(str(label))] = code
                if code:
                    table[normalise_key(code)] = code
            self._lookup = table
        return self._lookup

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        lookup = self.lookup()
        code = lookup.get(value) if type(value) is str else None  # values seen before, as typed
        if code is None:
            code = lookup.get(normalise_key(_as_text(value)))
            if code is not None and type(value) is str and len(lookup) < 10_000:
                lookup[value] = code
        if code is None:
            accepted = ", ".join(code for code, _label in self.choices if code)
            raise ValueError(
                _("“%(value)s” is not one of the accepted values (%(accepted)s, or their names in English or Chinese).")
                % {"value": _as_text(value)[:40], "accepted": accepted}
            )
        return code

    def render(self, value, obj=None, **kwargs):
        return value or ""


class YesNoWidget(widgets.BooleanWidget):
    """A consent column: yes or no (also 是, 否, true, false, 1, 0, or an Excel TRUE/FALSE cell)."""

    WORDS = {normalise_key(word): True for word in YES_WORDS} | {normalise_key(word): False for word in NO_WORDS}

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, bool):
            return value
        answer = self.WORDS.get(normalise_key(_as_text(value)))
        if answer is None:
            raise ValueError(_("“%(value)s” is not yes or no (also 是 or 否).") % {"value": _as_text(value)[:40]})
        return answer


class PastDateWidget(widgets.DateWidget):
    """An Excel date cell or text in one of the unambiguous year-first formats; never in the future,
    never before 1900 (a birth date, "customer since")."""

    def __init__(self):
        super().__init__()
        self.formats = _DATE_FORMATS
        self.today = timezone.localdate()

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, dt.datetime):
            day = value.date()
        elif isinstance(value, dt.date):
            day = value
        else:
            text = _as_text(value)
            try:
                day = dt.date.fromisoformat(text) if len(text) == 10 else None
            except ValueError:
                day = None
            for fmt in () if day else self.formats:
                try:
                    day = dt.datetime.strptime(text, fmt).date()
                    break
                except ValueError:
                    continue
            if day is None:
                raise ValueError(
                    _("“%(value)s” is not a date; use YYYY-MM-DD, for example 1985-03-21.") % {"value": text[:40]}
                )
        if day > self.today:
            raise ValueError(_("%(date)s is in the future.") % {"date": day.isoformat()})
        if day < _EARLIEST:
            raise ValueError(_("%(date)s is before 1900.") % {"date": day.isoformat()})
        return day


class TenureMonthsWidget(widgets.Widget):
    """A tenure in whole months (0 or more) read as "customer since": today less that many months."""

    def __init__(self):
        super().__init__()
        self.today = timezone.localdate()

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        text = re.sub(r"\s", "", _as_text(value))
        if not re.fullmatch(r"\+?\d{1,5}", text):
            raise ValueError(_("“%(value)s” is not a whole number of months of 0 or more.") % {"value": text[:40]})
        try:
            day = months_before(self.today, int(text))
        except ValueError:
            day = None
        if day is None or day < _EARLIEST:
            raise ValueError(_("%(months)s months before today is before 1900.") % {"months": text})
        return day


class BalanceWidget(widgets.DecimalWidget):
    """Money: 0 or more, at most two decimals; "¥1,200.50" is read as 1200.50."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, float):
            value = repr(value)
        text = re.sub(r"[\s,¥￥]", "", _as_text(value))
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("“%(value)s” is not an amount; write it like 1200.50.") % {"value": text[:40]}) from None
        if not amount.is_finite():
            raise ValueError(_("“%(value)s” is not an amount; write it like 1200.50.") % {"value": text[:40]})
        if amount < 0:
            raise ValueError(_("The balance cannot be negative."))
        # The maximum first: quantizing a 27-digit amount overflows the decimal context.
        if amount > BALANCE_MAX:
            raise ValueError(
                _("%(value)s is larger than the maximum, %(max)s.") % {"value": text[:40], "max": BALANCE_MAX}
            )
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(_("%(value)s has more than 2 decimal places.") % {"value": text[:40]})
        return amount.quantize(Decimal("0.01"))


class PointsWidget(widgets.IntegerWidget):
    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        text = re.sub(r"[\s,]", "", _as_text(value))
        if not re.fullmatch(r"\+?\d+", text):
            raise ValueError(_("“%(value)s” is not a whole number of 0 or more.") % {"value": text[:40]})
        points = int(text)
        if points > POINTS_MAX:
            raise ValueError(
                _("%(value)s is larger than the maximum, %(max)d.") % {"value": text[:40], "max": POINTS_MAX}
            )
        return points


class OwnerWidget(widgets.ForeignKeyWidget):
    """An active user by username. Lookups are cached; ``prime()`` loads many names in one query."""

    def __init__(self):
        super().__init__(get_user_model(), field="username")
        self._users: dict[str, object | None] = {}

    def prime(self, usernames) -> None:
        wanted = {name for name in usernames if name not in self._users}
        if not wanted:
            return
        found = {u.get_username(): u for u in self.model.objects.filter(username__in=wanted, is_active=True)}
        for name in wanted:
            self._users[name] = found.get(name)

    def clean_username(self, value) -> str | None:
        """The username a cell holds (no database access); ``clean`` then finds its user."""
        if _blank(value):
            return None
        username = _as_text(value)
        if len(username) > 150:
            raise ValueError(_("No active user has the username “%(value)s”.") % {"value": username[:40] + "…"})
        return username

    def clean(self, value, row=None, **kwargs):
        username = self.clean_username(value)
        if username is None:
            return None
        self.prime([username])
        user = self._users[username]
        if user is None:
            raise ValueError(_("No active user has the username “%(value)s”.") % {"value": username})
        return user


class TagsWidget(widgets.ManyToManyWidget):
    """Tag names separated by commas (also ，；; and 、); returns the names, unknown ones included."""

    def __init__(self):
        super().__init__(Tag, field="name")

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        names: list[str] = []
        for part in TAG_SEPARATORS.split(_as_text(value)):
            name = part.strip()
            if not name:
                continue
            if "\x00" in name:
                raise ValueError(_("The text contains a NUL character, which cannot be stored."))
            if len(name) > 40:
                raise ValueError(_("The tag “%(tag)s…” is longer than 40 characters.") % {"tag": name[:40]})
            if name not in names:
                names.append(name)
        return names or None

    def render(self, value, obj=None, **kwargs):
        return ", ".join(tag.name for tag in value.all()) if value is not None else ""


class CustomerNumberWidget(TextWidget):
    """A customer number in its canonical form (customers.numbers: the card form's rule, any case)."""

    def __init__(self):
        super().__init__(_max_length("customer_no"), required=True)

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs)
        try:
            return clean_customer_no(text)
        except ValidationError as error:
            raise ValueError(_message(error)) from None


def _field(column: Column, widget) -> fields.Field:
    return fields.Field(attribute=column.field_name, column_name=column.name, widget=widget, saves_null_values=False)


def _max_length(name: str) -> int:
    return Customer._meta.get_field(name).max_length


def build_widgets() -> dict[str, widgets.Widget]:
    """A fresh widget per column (the owner widget caches users, so one set per import)."""
    text = {name: TextWidget(_max_length(name)) for name in ("occupation", "company", "title", "wechat", "city")}
    return {
        "customer_no": CustomerNumberWidget(),
        "name": TextWidget(_max_length("name"), required=True),
        "gender": ChoiceWidget("gender", Customer.Gender.choices),
        "birth_date": PastDateWidget(),
        **text,
        "phone": PhoneWidget(),
        "email": EmailWidget(),
        "address": TextWidget(_max_length("address")),
        "segment": ChoiceWidget("segment", Customer.Segment.choices),
        "stage": ChoiceWidget("stage", Customer.Stage.choices),
        "owner": OwnerWidget(),
        "tags": TagsWidget(),
        "preferences": TextWidget(_max_length("preferences")),
        "balance": BalanceWidget(),
        "points": PointsWidget(),
        "customer_since": PastDateWidget(),
        "source": TextWidget(_max_length("source")),
        "tenure_months": TenureMonthsWidget(),
        "language": ChoiceWidget("language", settings.LANGUAGES),
        **{column.name: YesNoWidget() for column in CONSENT_COLUMNS},
    }


class CustomerResource(resources.ModelResource):
    """Customers by customer number: the columns of the import template, each with its widget."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        widget_set = build_widgets()
        for column in COLUMNS:
            self.fields[column.name] = _field(column, widget_set[column.name])

    class Meta:
        model = Customer
        fields = CARD_COLUMN_NAMES
        import_id_fields = ["customer_no"]
        skip_diff = True
        clean_model_instances = True

    def widgets(self) -> dict[str, widgets.Widget]:
        return {name: self.fields[name].widget for name in CARD_COLUMN_NAMES}

    def import_data(self, *args, **kwargs):
        """Never: cards are written through the card gate (customers.imports, customers.gate)."""
        raise NotImplementedError("Customer files are imported with customers.imports, through the card gate.")
