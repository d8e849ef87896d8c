"""The policy pages read in Chinese: every word on them is translated, only codes and placeholders stay."""

import re

import pytest
from django.urls import reverse

from followups.models import MessageTemplate, Rule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_policy")]


# What may stay in Latin letters on a Chinese page: the product's name, codes, placeholders, the
# English language's own name, the sample's links and card number, and the SMS channel's name.
ALLOWED = {"CRM", "SMS", "English", "http", "followups", "survey", "unsubscribe", "sample", "link", "C000123"}


def latin_words(html: str) -> set[str]:
    main = html.split('<main id="main"', 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<code>.*?</code>|<script.*?</script>|<option value=\"en\".*?</option>", "", main, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", main)  # tags and their attributes go
    text = re.sub(r"\{[a-z_]+\}|https?://\S+", " ", text)
    return {word for word in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", text) if word not in ALLOWED}


@pytest.fixture
def chinese_admin(admin_client):
    admin_client.post(reverse("set_language"), {"language": "zh-hans"})
    Rule.objects.create(
        action="close", segment="key", kind="callback", channel="phone", delay_days=3, working_days=True
    )
    Rule.objects.create(action="close", category="price", kind="winback", channel="sms", delay_days=30, position=2)
    MessageTemplate.objects.create(
        kind="winback", channel="sms", language="zh-hans", body="{name}您好，{unsubscribe_link}"
    )
    return admin_client


def test_the_policy_page_has_no_english_left(chinese_admin):
    assert latin_words(chinese_admin.get(reverse("followups:policy")).content.decode()) == set()


@pytest.mark.parametrize(
    "name", ["followups:policy_rule_create", "followups:policy_rule_edit", "followups:policy_rule_delete"]
)
def test_the_rule_pages_have_no_english_left(chinese_admin, name):
    args = [] if name.endswith("create") else [Rule.objects.first().pk]
    assert latin_words(chinese_admin.get(reverse(name, args=args)).content.decode()) == set()


def test_a_refused_rule_says_why_in_chinese(chinese_admin):
    response = chinese_admin.post(
        reverse("followups:policy_rule_create"),
        {"action": "close", "kind": "callback", "channel": "email", "delay_days": "400"},
    )
    page = response.content.decode()
    assert "电话回访要打电话：请选择“电话”。" in page
    assert "请填写 0 到 365 天。" in page
    assert latin_words(page) == set()


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_the_template_pages_have_no_english_left(chinese_admin, channel):
    url = reverse("followups:policy_template", args=["winback", channel, "zh-hans"])
    assert latin_words(chinese_admin.get(url).content.decode()) == set()
    body = {"body": "{name}您好，{nmae}", "subject": "主题", "preview": "1"}
    refused = chinese_admin.post(url, body).content.decode()
    assert latin_words(refused) == set()
