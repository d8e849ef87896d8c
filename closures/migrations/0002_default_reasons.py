"""Seed the default closure reasons in English and Chinese.

Covers the reasons of the practice documents (客户主动要求销卡, 长期未活跃, 对服务不满意, 重复记录,
信息有误, 测试数据, 公司搬迁或退出市场) and the common churn reasons. Idempotent: each reason is
keyed by its code, so running it again updates the row instead of adding a second one.
"""

from django.db import migrations

C, V, A, E = "close", "void", "archive", "erase"

# code, English, Chinese, category, actions, display order, notes required
DEFAULT_REASONS = [
    ("customer-request", "Customer asked to close the card", "客户主动要求销卡", "customer_request", {C}, 10, False),
    ("competitor", "Switched to a competitor", "转向竞争对手", "competitor", {C}, 20, False),
    ("price", "Price too high", "价格过高", "price", {C}, 30, False),
    ("service", "Dissatisfied with service", "对服务不满意", "service", {C}, 40, False),
    ("product", "Product did not meet needs", "产品不满足需求", "product", {C}, 50, False),
    ("moved-away", "Moved away", "客户搬迁离开", "moved", {C, A}, 60, False),
    ("company-left-market", "Company moved or left the market", "公司搬迁或退出市场", "moved", {C, V, A}, 70, False),
    ("business-closed", "Business closed", "企业停业或注销", "moved", {C, A}, 80, False),
    ("deceased", "Customer deceased", "客户已故", "deceased", {C, A}, 90, False),
    ("long-inactive", "Long inactive", "长期未活跃", "inactivity", {C, A}, 100, False),
    ("relationship-paused", "Relationship paused, kept for reference", "合作暂停，留档备查", "inactivity", {A}, 110, False),
    ("duplicate", "Duplicate record", "重复记录", "duplicate", {V}, 120, False),
    ("wrong-information", "Wrong information", "信息有误", "data_error", {V}, 130, False),
    ("test-entry", "Test entry", "测试数据", "data_error", {V, E}, 140, False),
    ("erasure-request", "Privacy or erasure request", "客户要求删除个人信息", "customer_request", {E}, 150, False),
    ("other", "Other (notes required)", "其他（须填写备注）", "other", {C, V, A, E}, 999, True),
]


def seed(apps, schema_editor):
    ClosureReason = apps.get_model("closures", "ClosureReason")
    for code, label_en, label_zh, category, actions, order, notes_required in DEFAULT_REASONS:
        ClosureReason.objects.update_or_create(
            code=code,
            defaults={
                "label_en": label_en,
                "label_zh": label_zh,
                "category": category,
                "for_close": C in actions,
                "for_void": V in actions,
                "for_archive": A in actions,
                "for_erase": E in actions,
                "display_order": order,
                "notes_required": notes_required,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("closures", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
