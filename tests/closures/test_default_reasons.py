"""The migration seeds a default list of reasons in English and Chinese, once."""

import importlib

import pytest
from django.apps import apps

from closures.models import ClosureReason

pytestmark = pytest.mark.django_db

seed_migration = importlib.import_module("closures.migrations.0002_default_reasons")


@pytest.mark.parametrize(
    ("label_zh", "category", "action"),
    [
        ("客户主动要求销卡", "customer_request", "close"),
        ("长期未活跃", "inactivity", "close"),
        ("长期未活跃", "inactivity", "archive"),
        ("对服务不满意", "service", "close"),
        ("重复记录", "duplicate", "void"),
        ("信息有误", "data_error", "void"),
        ("测试数据", "data_error", "void"),
        ("公司搬迁或退出市场", "moved", "void"),
        ("转向竞争对手", "competitor", "close"),
        ("价格过高", "price", "close"),
        ("产品不满足需求", "product", "close"),
        ("客户已故", "deceased", "close"),
        ("客户要求删除个人信息", "customer_request", "erase"),
    ],
)
def test_the_seed_documents_reasons_and_common_churn_reasons_are_there(label_zh, category, action):
    found = ClosureReason.objects.get(label_zh=label_zh)
    assert found.category == category
    assert found.applies_to(action)
    assert found.is_active and found.label_en


def test_other_applies_to_every_action_and_requires_notes():
    other = ClosureReason.objects.get(code="other")
    assert all(other.applies_to(a) for a in ("close", "void", "archive", "erase"))
    assert other.requires_notes


def test_seeding_again_changes_nothing_and_keeps_retired_reasons_retired():
    ClosureReason.objects.filter(code="price").update(is_active=False)
    before = ClosureReason.objects.count()

    seed_migration.seed(apps, None)

    assert ClosureReason.objects.count() == before
    assert ClosureReason.objects.get(code="price").is_active is False
