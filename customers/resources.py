"""The columns of a customer spreadsheet and how each cell is read (django-import-export).

:class:`CustomerResource` is the single definition of the import file: which columns exist,
which header names mean each of them (English or Chinese), and the widget that turns one
cell into a model value or raises ``ValueError`` with a message a user can act on
("This mobile number has 10 digits; Chinese mobiles have 11."). ``import_id_fields`` is
``customer_no``, so a row whose number exists updates that customer instead of adding one.

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
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from .models import Customer, Tag
from .numbers import clean_customer_no
from .phones import normalise_phone

# The template's example row: refused if it is imported unchanged (see imports/operation.py).
EXAMPLE_CUSTOMER_NO = "EXAMPLE-0001"
BALANCE_MAX = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
POINTS_MAX = 2_147_483_647  # the largest IntegerField value on every database
TAG_SEPARATORS = re.compile(r"[,，;；、]")


@dataclass(frozen=True)
class Column:
    """One column of the import file, its header names and its explanation in both languages."""

    name: str
    help_en: str
    help_zh: str
    example: object = ""
    aliases: tuple[str, ...] = ()
    required: bool = False
    model_field: str = field(default="")

    @property
    def field_name(self) -> str:
        return self.model_field or self.name


COLUMNS: tuple[Column, ...] = (
    Column(
        "customer_no",
        "Customer number, unique (letters, digits, - and _). A number that already exists updates that customer.",
        "客户编号，唯一（字母、数字、- 和 _）。编号已存在时更新该客户，不会重复创建。",
        EXAMPLE_CUSTOMER_NO,
        ("客户编号", "客户号", "编号", "客户ID", "customer number", "customer no", "customer id"),
        required=True,
    ),
    Column(
        "name",
        "Full name (required).",
        "姓名（必填）。",
        "张伟",
        ("姓名", "客户姓名", "名字", "名称", "full name"),
        True,
    ),
    Column(
        "gender",
        "female, male or other (also 女, 男, 其他); empty if not stated.",
        "性别：女、男、其他（也可填 female、male、other）；不详可留空。",
        "男",
        ("性别", "sex"),
    ),
    Column(
        "birth_date",
        "Date of birth: 1985-03-21, 1985/3/21, 1985年3月21日 or an Excel date cell.",
        "出生日期：1985-03-21、1985/3/21、1985年3月21日，或 Excel 日期单元格。",
        dt.date(1985, 3, 21),
        ("出生日期", "生日", "birth date", "date of birth", "birthday"),
    ),
    Column("occupation", "Occupation.", "职业。", "工程师", ("职业",)),
    Column(
        "company",
        "Company or employer.",
        "公司或工作单位。",
        "上海示例科技有限公司",
        ("公司", "单位", "工作单位", "employer"),
    ),
    Column("title", "Job title.", "职位。", "技术经理", ("职位", "职务", "job title")),
    Column(
        "phone",
        "Mobile phone: 11 digits for China (13812345678), or + and the country code (+44 7700 900123).",
        "手机号：中国大陆手机 11 位（13812345678），其他国家/地区以 + 和国家代码开头（+44 7700 900123）。",
        "13812345678",
        ("手机", "手机号", "手机号码", "电话", "联系电话", "移动电话", "mobile", "mobile phone", "phone number"),
    ),
    Column(
        "email",
        "Email address.",
        "电子邮箱。",
        "zhang.wei@example.cn",
        ("邮箱", "电子邮箱", "电子邮件", "e-mail", "mail"),
    ),
    Column(
        "wechat",
        "WeChat ID or another messaging handle.",
        "微信号或其他联系方式账号。",
        "zhangwei_88",
        ("微信", "微信号", "wechat id", "wechat or other handle"),
    ),
    Column("city", "City.", "城市。", "上海", ("城市",)),
    Column("address", "Postal address.", "地址。", "上海市浦东新区世纪大道100号", ("地址", "联系地址", "通讯地址")),
    Column(
        "segment",
        "potential, regular or key (also Potential, Regular, Key account, 潜在客户, 普通客户, 重点客户). "
        "Empty: potential for a new customer.",
        "客户分类：potential、regular、key（也可填 潜在客户、普通客户、重点客户）。新客户留空为潜在客户。",
        "重点客户",
        ("客户分类", "分类", "客户类型", "客户等级"),
    ),
    Column(
        "stage",
        "prospect, first_purchase, repeat or loyal (also First purchase, 潜在, 首次购买, 复购, 忠诚). "
        "Empty: prospect for a new customer.",
        "生命周期阶段：prospect、first_purchase、repeat、loyal（也可填 潜在、首次购买、复购、忠诚）。"
        "新客户留空为潜在。",
        "复购",
        ("生命周期阶段", "生命周期", "阶段", "lifecycle stage", "lifecycle"),
    ),
    Column(
        "owner",
        "Username of the staff member who looks after the customer (must exist and be active).",
        "负责该客户的员工用户名（必须是已存在的有效用户）。",
        "",
        ("负责人", "客户经理", "归属人", "所属员工", "owner username", "username"),
    ),
    Column(
        "tags",
        "Tags separated by commas (VIP, 老客户); they replace the customer's tags. New tags are created.",
        "标签，用逗号分隔（VIP, 老客户）；会替换该客户原有标签，不存在的标签会自动创建。",
        "VIP, 老客户",
        ("标签",),
    ),
    Column(
        "preferences", "Preferences, free text.", "偏好，自由填写。", "喜欢绿茶，周末联系", ("偏好", "喜好", "客户偏好")
    ),
    Column(
        "balance",
        "Stored-value balance, 0 or more, at most 2 decimals (1200.50).",
        "储值余额，不小于 0，最多两位小数（1200.50）。",
        Decimal("1200.50"),
        ("储值余额", "余额", "储值", "stored-value balance"),
    ),
    Column(
        "points",
        "Loyalty points, a whole number, 0 or more.",
        "积分，不小于 0 的整数。",
        350,
        ("积分", "loyalty points"),
    ),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)

# Columns an export carries that an import reads past (so an export can be edited and re-imported).
EXPORT_ONLY_COLUMNS: tuple[str, ...] = (
    "status",
    "created_at",
    "updated_at",
    "last_interaction_at",
    "last_purchase_on",
    "purchase_count",
    "purchase_total",
)
EXPORT_ONLY_ALIASES: dict[str, tuple[str, ...]] = {
    "status": ("状态",),
    "created_at": ("创建时间", "created"),
    "updated_at": ("更新时间", "updated"),
    "last_interaction_at": ("最近互动", "last interaction"),
    "last_purchase_on": ("最近购买", "last purchase"),
    "purchase_count": ("购买次数", "purchases"),
    "purchase_total": ("购买总额", "purchase total"),
}

# Chinese (and a few English) words people use for the choice values, beside the codes and labels.
CHOICE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "gender": {
        "f": ("女", "女性", "女士", "female", "woman"),
        "m": ("男", "男性", "先生", "male", "man"),
        "o": ("其他", "其它", "other"),
        "": ("未知", "不详", "未说明", "保密", "not stated", "unknown"),
    },
    "segment": {
        "potential": ("潜在客户", "潜在", "潜客"),
        "regular": ("普通客户", "普通", "常规客户", "一般客户"),
        "key": ("重点客户", "重点", "大客户", "关键客户", "key account", "vip"),
    },
    "stage": {
        "prospect": ("潜在", "潜在客户", "意向客户", "意向"),
        "first_purchase": ("首次购买", "首购", "初次购买", "first purchase"),
        "repeat": ("复购", "重复购买", "回头客", "repeat purchase"),
        "loyal": ("忠诚", "忠诚客户", "忠实客户", "忠实"),
    },
}

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M")
_EARLIEST_BIRTH = dt.date(1900, 1, 1)


def normalise_key(text: str) -> str:
    """How headers and choice values are compared: case, spaces, _ and - do not matter."""
    return re.sub(r"[\s_\-]+", "", str(text).replace("\ufeff", "").casefold())


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


class BirthDateWidget(widgets.DateWidget):
    """An Excel date cell or text in one of the unambiguous year-first formats; never in the future."""

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
        if day < _EARLIEST_BIRTH:
            raise ValueError(_("%(date)s is before 1900.") % {"date": day.isoformat()})
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
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(_("%(value)s has more than 2 decimal places.") % {"value": text[:40]})
        if amount > BALANCE_MAX:
            raise ValueError(
                _("%(value)s is larger than the maximum, %(max)s.") % {"value": text[:40], "max": BALANCE_MAX}
            )
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
        "birth_date": BirthDateWidget(),
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
        fields = COLUMN_NAMES
        import_id_fields = ["customer_no"]
        skip_diff = True
        clean_model_instances = True

    def widgets(self) -> dict[str, widgets.Widget]:
        return {name: self.fields[name].widget for name in COLUMN_NAMES}

    def import_data(self, *args, **kwargs):
        """Never: cards are written through the card gate (customers.imports, customers.gate)."""
        raise NotImplementedError("Customer files are imported with customers.imports, through the card gate.")
