"""The columns of a customer spreadsheet: their names, the header names that mean them, their help.

One table for everything that reads or writes a customer file: the import's header matching
(customers/imports/cleaning.py), the import template (customers/imports/template.py), the
resource's fields and the words accepted for choice values (customers/resources.py). How each
cell is read and checked is the resource's widgets' business (customers/resources.py).
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

# The template's example row: refused if it is imported unchanged (see imports/cleaning.py).
EXAMPLE_CUSTOMER_NO = "EXAMPLE-0001"


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
    Column(
        "customer_since",
        "The date the customer became one (tenure is counted from it): 2019-03-21, 2019/3/21, 2019年3月21日 "
        "or an Excel date cell; not in the future, not before 1900. Empty: the import date for a new customer.",
        "客户起始日期（客户在网时长从此日算起）：2019-03-21、2019/3/21、2019年3月21日，或 Excel 日期单元格；"
        "不能晚于今天，不能早于 1900 年。新客户留空为导入当天。",
        dt.date(2019, 3, 21),
        ("客户起始日期", "起始日期", "客户起始日", "成为客户日期", "开户日期", "入会日期", "customer start date"),
    ),
    Column(
        "source",
        "Where the customer came from: the system migrated from, a store, a campaign (at most 60 characters).",
        "客户来源：迁移前的系统、门店、活动等（最多 60 个字符）。",
        "旧系统",
        ("来源", "客户来源", "渠道", "来源渠道", "customer source", "channel"),
    ),
    Column(
        "language",
        "The language of the messages the customer receives (closure notice, survey): en or zh-hans "
        "(also English, 中文, 简体中文). Empty: zh-hans for a new customer.",
        "客户接收消息（注销通知、问卷）的语言：en 或 zh-hans（也可填 English、英文、中文、简体中文）。"
        "新客户留空为中文。",
        "zh-hans",
        ("语言", "消息语言", "客户语言", "language for messages", "message language"),
    ),
)
# Contact consent (customers.consent; not fields of the card): optional, yes or no (also 是 / 否).
# The three *_marketing columns are the consent to surveys and offers on one channel, recorded as
# given by the file and its line; do_not_contact sets "do not contact" on every channel at once.
CONSENT_COLUMNS: tuple[Column, ...] = (
    Column(
        "email_marketing",
        "Surveys and offers by e-mail allowed: yes or no (also 是, 否). The consent is recorded as given "
        "by this file and line. Empty: unchanged (no for a new customer).",
        "是否同意通过电子邮件接收问卷和优惠：是 或 否（也可填 yes、no）；同意记录为由本文件及行号给出。"
        "留空不变（新客户为否）。",
        "是",
        ("邮件营销", "邮件问卷和优惠", "email consent", "email surveys and offers"),
    ),
    Column(
        "sms_marketing",
        "Surveys and offers by SMS allowed: yes or no (also 是, 否). Empty: unchanged (no for a new customer).",
        "是否同意通过短信接收问卷和优惠：是 或 否。留空不变（新客户为否）。",
        "否",
        ("短信营销", "短信问卷和优惠", "sms consent", "sms surveys and offers"),
    ),
    Column(
        "phone_marketing",
        "Surveys and offers by phone allowed: yes or no (also 是, 否). Empty: unchanged (no for a new customer).",
        "是否同意通过电话接收问卷和优惠：是 或 否。留空不变（新客户为否）。",
        "否",
        ("电话营销", "电话问卷和优惠", "phone consent", "phone surveys and offers"),
    ),
    Column(
        "do_not_contact",
        "yes: contact the customer by no channel at all, not even service messages (all channels); "
        "no: lift it. Empty: unchanged.",
        "是：任何渠道都不联系该客户，服务消息也不发（所有渠道）；否：取消。留空不变。",
        "否",
        ("请勿联系", "勿扰", "不要联系", "免打扰", "do not contact"),
    ),
)
# Column name -> (channel, consent field) or (None, "do_not_contact") for every channel.
CONSENT_OF: dict[str, tuple[str | None, str]] = {
    "email_marketing": ("email", "marketing"),
    "sms_marketing": ("sms", "marketing"),
    "phone_marketing": ("phone", "marketing"),
    "do_not_contact": (None, "do_not_contact"),
}
# Columns a file may hold instead of one of the template's: the telecom data sets give a customer's
# tenure in whole months, which becomes "customer since" (today less that many months).
ALTERNATIVE_COLUMNS: tuple[Column, ...] = (
    Column(
        "tenure_months",
        "Instead of customer_since: how many whole months the customer has been one (0 or more); "
        "customer_since becomes today less that many months.",
        "可代替 customer_since：成为客户的整月数（不小于 0）；客户起始日期按今天减去该月数计算。",
        24,
        ("在网时长", "在网月数", "客户时长", "客户月数", "tenure", "tenure in months"),
        model_field="customer_since",
    ),
)
# The import template's columns, in order (an export writes these first): the card's, then consent.
TEMPLATE_COLUMNS: tuple[Column, ...] = COLUMNS + CONSENT_COLUMNS
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in TEMPLATE_COLUMNS)
CARD_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)  # the resource's (model fields)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
# Column name -> the model field (and the import record's key) it fills.
FIELD_OF: dict[str, str] = {c.name: c.field_name for c in TEMPLATE_COLUMNS + ALTERNATIVE_COLUMNS}

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

# The header an export writes for each column in the exporter's language (the machine names above
# when they ask for them, for integrations). The import reads these in both languages too
# (customers/imports/cleaning.py), so a Chinese export can be edited and imported again.
HEADER_LABELS: dict[str, object] = {
    "customer_no": _("Customer number"),
    "name": _("Name"),
    "gender": _("Gender"),
    "birth_date": _("Birth date"),
    "occupation": _("Occupation"),
    "company": _("Company"),
    "title": _("Job title"),
    "phone": _("Phone"),
    "email": _("Email"),
    "wechat": _("WeChat or other handle"),
    "city": _("City"),
    "address": _("Address"),
    "segment": _("Segment"),
    "stage": _("Lifecycle stage"),
    "owner": _("Owner"),
    "tags": _("Tags"),
    "preferences": _("Preferences"),
    "balance": _("Stored-value balance"),
    "points": _("Loyalty points"),
    "customer_since": _("Customer since"),
    "source": _("Source"),
    "language": _("Language for messages"),
    "email_marketing": _("E-mail: surveys and offers"),
    "sms_marketing": _("SMS: surveys and offers"),
    "phone_marketing": _("Phone: surveys and offers"),
    "do_not_contact": _("Do not contact"),
    "status": _("Status"),
    "created_at": _("Created"),
    "updated_at": _("Updated"),
    "last_interaction_at": _("Last interaction"),
    "last_purchase_on": _("Last purchase"),
    "purchase_count": _("Number of purchases"),
    "purchase_total": _("Purchase total"),
}

# Yes and no in a consent column (customers.resources.YesNoWidget), beside Excel's TRUE and FALSE.
YES_WORDS = ("yes", "y", "true", "1", "是", "同意", "允许", "对", "有")
NO_WORDS = ("no", "n", "false", "0", "否", "不", "不同意", "不允许", "无")

# Chinese (and a few English) words people use for the choice values, beside the codes and labels.
CHOICE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "language": {
        "en": ("English", "英文", "英语", "en-us", "en-gb"),
        "zh-hans": ("中文", "简体中文", "汉语", "普通话", "Chinese", "zh", "zh-cn", "zh_cn", "zh-hans-cn"),
    },
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


def normalise_key(text: str) -> str:
    """How headers and choice values are compared: case, spaces, _ and - do not matter."""
    return re.sub(r"[\s_\-]+", "", str(text).replace("\ufeff", "").casefold())
