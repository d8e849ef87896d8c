"""Consent changes read in the reader's language on the card's timeline and the audit log; the pages in Chinese."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm.audit_display import describe
from crm.models import AuditEntry
from customers import consent, gate, imports
from customers.models import Customer
from tests.factories import CustomerFactory
from tests.fixtures.customer_files import csv_bytes

pytestmark = pytest.mark.django_db


def shown_lines(customer) -> list[str]:
    """Each consent entry as the timeline shows it: title, then its details and changes."""
    lines = []
    entries = AuditEntry.objects.filter(customer_id=customer.pk, action="customer.consent").order_by("pk")
    for shown in describe(entries, unmasked=True):
        changes = [f"{c.label}: {c.old} → {c.new}" for c in shown.changes]
        lines.append(" | ".join([shown.title, *changes, *shown.details]))
    return lines


@pytest.fixture
def changed(staff_user):
    customer = CustomerFactory()
    consent.change(customer, "email", by=staff_user, source=gate.FORM, how="signed form in store", marketing=True)
    consent.change(customer, "sms", by=None, source=gate.Source("unsubscribe"), do_not_contact=True)
    consent.change(customer, "phone", by=None, source=gate.Source("survey"), how="问卷回答", marketing=True)
    consent.change(customer, "phone", by=None, source=gate.Source("callback"), marketing=False)
    return customer


def test_the_timeline_reads_channel_what_old_new_how_and_source_in_english(changed):
    assert shown_lines(changed) == [
        "Contact preferences changed | E-mail · surveys and offers: No → Yes | "
        "Changed on the card's form | Consent given: signed form in store",
        "Contact preferences changed | SMS · do not contact: No → Yes | "
        "By the customer, with the unsubscribe link in a message",
        "Contact preferences changed | Phone · surveys and offers: No → Yes | "
        "Answered by the customer in the exit survey | Consent given: 问卷回答",
        "Contact preferences changed | Phone · surveys and offers: Yes → No | Said by the customer on a callback",
    ]


def test_the_timeline_reads_the_same_entries_in_chinese(changed):
    with translation.override("zh-hans"):
        lines = shown_lines(changed)

    assert lines[0] == (
        "联系偏好已更改 | 电子邮件 · 调查和优惠: 否 → 是 | 在客户管理卡表单中修改 | 同意方式：signed form in store"
    )
    assert lines[1].startswith("联系偏好已更改 | 短信 · 请勿联系: 否 → 是 | ")
    assert all(not any("a" <= ch.lower() <= "z" for ch in line.replace("signed form in store", "")) for line in lines)


def test_an_imported_consent_names_the_file_and_line(admin_user):
    data = csv_bytes([], header=["customer_no", "name", "sms_marketing"], raw_rows=[["IM1", "王芳", "是"]])
    report = imports.import_customers(io.BytesIO(data), "optin.csv", user=admin_user, commit=True)
    assert report.written

    assert shown_lines(Customer.objects.get(customer_no="IM1")) == [
        "Contact preferences changed | SMS · surveys and offers: No → Yes | "
        "Imported from optin.csv, line 2 | Consent given: optin.csv:2"
    ]


def test_the_card_and_the_edit_page_in_chinese(staff_user, changed):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(staff_user)

    card = client.get(reverse("customers:card", kwargs={"pk": changed.pk})).text
    edit = client.get(reverse("customers:consent", kwargs={"pk": changed.pk})).text

    for words in ("联系偏好", "消息语言", "调查和优惠", "请勿联系", "编辑联系偏好", "联系偏好已更改"):
        assert words in card, words
    for words in ("同意是如何给出的？", "服务消息", "电子邮件", "短信", "电话"):
        assert words in edit, words
    response = client.post(
        reverse("customers:consent", kwargs={"pk": changed.pk}),
        {"sms_service": "on", "email_service": "on", "email_marketing": "on", "sms_marketing": "on"},
    )
    assert "请说明客户如何同意接收调查和优惠" in response.text
