"""Audit entries are read in the reader's language, whoever wrote them and in whatever language.

The same card's life (created, edited, imported, a purchase, an interaction, a closure requested and
approved with a settlement, reinstated, archived in bulk, reasons and settings changed, an export)
is written by users working in English; the card's history and the audit page are then read in
English and in Chinese. With the text users typed taken out, a Chinese page holds no English word
and an English page no Chinese character.
"""

import html
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from closures import bulk, operations
from closures.models import ClosureReason, ClosureSettings
from closures.rules import ClosureChoice
from crm import audit
from customers import gate, imports
from tests.factories import UserFactory
from tests.fixtures.customer_files import csv_bytes

pytestmark = pytest.mark.django_db

# What users typed (and identifiers): shown as typed in both languages, so taken out before looking.
TYPED = [
    "C000123",
    "Zhao Mei",
    "Zhao Meimei",
    "staff_amy",
    "Amy Li",
    "Bob Wu",
    "boss_bob",
    "root_ray",
    "Hangzhou",
    "Shanghai",
    "tea",
    "called",
    "asked to stop",
    "refunded cash",
    "changed mind",
    "moving out",
    "cards.csv",
    "VIP",
    "zm@example.com",
    "+86 138 1234 5678",
    "+8613812345678",
    "Excel",
    "CSV",
]


@pytest.fixture
def lived():
    staff = UserFactory(username="staff_amy", first_name="Amy", last_name="Li", role="Staff")
    manager = UserFactory(username="boss_bob", first_name="Bob", last_name="Wu", role="Manager")
    admin = UserFactory(username="root_ray", first_name="Ray", last_name="Xu", role="Admin")
    reason = ClosureReason.objects.filter(for_close=True, for_archive=True, notes_required=False).first()
    with translation.override("en"):
        card = gate.create_card(
            {"customer_no": "C000123", "name": "Zhao Mei", "city": "Shanghai", "segment": "key", "tags": ["VIP"]},
            by=staff,
            source=gate.FORM,
        )
        gate.update_card(
            card, {"city": "Hangzhou", "phone": "+8613812345678", "email": "zm@example.com"}, by=staff, source=gate.FORM
        )
        data = csv_bytes([], header=["customer_no", "name", "balance"], raw_rows=[["C000123", "Zhao Meimei", "10"]])
        imports.import_customers(io.BytesIO(data), "cards.csv", user=admin, commit=True)
        gate.record_purchase(
            card, by=staff, product="tea", quantity=1, amount=Decimal("10"), purchased_on=timezone.localdate()
        )
        gate.record_interaction(card, by=staff, kind="call", occurred_at=timezone.now(), summary="called")
        settings = ClosureSettings.load()
        settings.approval_required, settings.approval_policy = True, ClosureSettings.Policy.ALL
        settings.save()
        choice = ClosureChoice(
            "close",
            reason,
            notes="asked to stop",
            settlement="refund",
            settlement_method="cash",
            settlement_note="refunded cash",
        )
        asked = operations.confirm_closure(card, choice, by=staff)
        operations.approve(asked, by=manager)
        operations.reinstate(card, by=manager, note="changed mind")
        bulk.bulk_close(
            [card.pk],
            ClosureChoice(
                "archive",
                reason,
                notes="moving out",
                settlement="refund",
                settlement_method="cash",
                settlement_note="refunded cash",
            ),
            by=manager,
        )
        audit.record(
            "settings.update",
            actor=admin,
            changes={"approval_required": [False, True], "approval_policy": ["key_or_balance", "all"]},
        )
        audit.record(
            "reason.update", actor=admin, changes={"category": ["price", "service"]}, data={"reason": reason.pk}
        )
        audit.record(
            "customer.export",
            actor=admin,
            changes={
                "format": [None, "csv"],
                "rows": [None, 1],
                "filters": [None, {"status": ["closed"], "segment": ["key"]}],
            },
        )
    return card, admin


def _text(page: str, start: str, end: str) -> str:
    begin = page.index(">", page.index(start)) + 1
    part = page[begin : page.index(end, begin)]
    text = html.unescape(re.sub(r"<[^>]+>", " ", part))
    for typed in sorted(TYPED, key=len, reverse=True):
        text = text.replace(typed, " ")
    return text


def _pages(card, admin, language: str) -> dict[str, str]:
    client = Client()
    client.force_login(admin)
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    card_page = client.get(reverse("customers:card", args=[card.pk]), **headers).content.decode()
    audit_page = client.get(reverse("closures:audit"), **headers).content.decode()
    return {
        "history": _text(card_page, 'id="h-history"', "</section>"),
        "audit": _text(audit_page, "<tbody>", "</tbody>"),
    }


def test_a_chinese_reader_sees_no_english_but_what_users_typed(lived):
    card, admin = lived
    for name, text in _pages(card, admin, "zh-hans").items():
        english = re.findall(r"[A-Za-z]{2,}", text)
        assert english == [], f"{name}: {english}"
        assert "销卡" in text and "状态" in text


def test_an_english_reader_sees_no_chinese_label(lived):
    card, admin = lived
    for name, text in _pages(card, admin, "en").items():
        chinese = re.findall(r"[\u4e00-\u9fff]+", text)
        assert chinese == [], f"{name}: {chinese}"
        assert "Card closed" in text and "Status" in text


def test_the_history_names_each_step_in_the_readers_language(lived):
    card, admin = lived
    history = _pages(card, admin, "zh-hans")["history"]
    for words in ("正常", "已销卡", "已归档", "批量注销的一部分", "结算", "导入，第 2 行", "电话"):
        assert words in history, words
