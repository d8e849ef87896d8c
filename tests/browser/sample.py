"""Sample data for the page-layout and accessibility tests: the widest content a page is likely to get.

A two-character name next to a very long one, full phone numbers, tags, purchases and interactions
on a card, and a year of closures over several reasons, categories and staff members, so the
dashboard's charts and tables and the closure list carry real rows.
"""

import datetime as dt

from django.utils import timezone

from followups.models import Improvement
from tests.factories import (
    ClosureFactory,
    ClosureReasonFactory,
    CustomerFactory,
    InteractionFactory,
    PurchaseFactory,
    TagFactory,
    UserFactory,
)

LONG_NAME = "欧阳娜娜·阿卜杜热合曼 Christopher-Alexander Montgomery-Smithson"
LONG_NOTES = "客户来电说明情况：" + "搬到外地以后附近没有门店，也不方便网上购买，" * 4


def shop() -> dict:
    """Cards to search and open, and closures to read on the dashboard and the closure list."""
    zhang = CustomerFactory(
        name="张伟",
        customer_no="C000101",
        phone="+8613812345678",
        email="zhang.wei.from.a.long.company.name@example-company.com.cn",
        city="测试城市 Testville",
        address="浙江省杭州市西湖区文三路 1234 号 某某大厦 18 楼 1801 室",
        preferences="喜欢周末到店；不接受电话推销。" * 3,
    )
    zhang.tags.add(TagFactory(name="VIP"), TagFactory(name="wechat-group-2024"))
    long = CustomerFactory(name=LONG_NAME, customer_no="C000102", phone="+8613900001111")
    for _ in range(3):
        PurchaseFactory(customer=zhang, product="会员年卡（含 12 次到店护理与线上课程）", amount="12999.00")
        InteractionFactory(customer=zhang, summary=LONG_NOTES, outcome="客户表示会考虑续费，下周再回访")
    staff = [
        UserFactory(username=f"sample_staff_{n}", first_name=first, last_name=last)
        for n, (first, last) in enumerate([("Mei", "Lin"), ("Guangming", "Ouyang-Fitzgerald"), ("伟", "王")])
    ]
    reasons = [
        ClosureReasonFactory(
            label_en="Moved to a city without a store", label_zh="搬到没有门店的城市", category="moved"
        ),
        ClosureReasonFactory(label_en="Price too high", label_zh="价格太高", category="price"),
        ClosureReasonFactory(label_en="Unhappy with the service", label_zh="对服务不满意", category="service"),
        ClosureReasonFactory(label_en="Went to a competitor", label_zh="转向竞争对手", category="competitor"),
    ]
    now = timezone.now()
    for n in range(24):
        ClosureFactory(
            reason=reasons[n % len(reasons)],
            performed_by=staff[n % len(staff)],
            performed_at=now - dt.timedelta(days=13 * n),
            notes=LONG_NOTES if n % 3 == 0 else "",
        )
    return {"zhang": zhang, "long": long, "staff": staff, "reasons": reasons}


def shop_with_improvements():
    """The shop, with three improvement actions: 40 and 10 days ago (the second's window still
    running) and one planned 30 days ahead."""
    sample = shop()
    today = timezone.localdate()
    by = UserFactory(username="planner")
    for days, title, categories in (
        (-40, "服务热线 24 小时开通，投诉一小时内回电", ["service"]),
        (-10, "Price match with the two competing chains in every city", ["price", "competitor"]),
        (30, "New loyalty tiers", ["price"]),
    ):
        Improvement.objects.create(
            title=title, started_on=today + dt.timedelta(days=days), categories=categories, created_by=by
        )
    return sample
