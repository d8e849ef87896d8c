"""The closure notice by e-mail, read back from a real SMTP server: in the customer's language, with
the balance's settlement in words, an HTML part that escapes customer data, RFC 8058 one-click
unsubscribe headers and a working unsubscribe link."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client

from customers.models import ContactConsent
from followups import sending
from followups.models import Followup, Kind
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def unsubscribe_link(message) -> str:
    """The List-Unsubscribe header's URL (a long header is folded: the value may start with a space)."""
    return message["List-Unsubscribe"].strip().removeprefix("<").removesuffix(">")


def notice_of(card):
    return Followup.objects.get(customer=card, kind=Kind.NOTICE)


def test_a_chinese_customer_gets_the_notice_in_chinese_with_the_refund_in_words(smtp_server, close_card):
    card = CustomerFactory(name="王小明", email="wang@example.cn", language="zh-hans", balance=Decimal("120.00"))
    close_card(card, settlement="refund", settlement_method="wechat")

    tally = sending.send_due()

    assert tally.sent == 1
    [message] = smtp_server.to("wang@example.cn")
    assert message["Subject"] == f"您的会员卡 {card.customer_no} 已注销"
    assert message["Content-Language"] == "zh-Hans"
    text = smtp_server.text(message)
    assert text.startswith("王小明，您好")
    assert "卡内余额处理：¥120.00 已通过微信支付退还。" in text
    assert "王小明" in smtp_server.html(message) and 'lang="zh-Hans"' in smtp_server.html(message)
    notice = notice_of(card)
    assert (notice.state, notice.address, notice.attempts) == (Followup.State.SENT, "wang@example.cn", 0)
    assert notice.sent_at is not None and notice.last_error == ""


def test_an_english_customer_gets_it_in_english(smtp_server, close_card):
    card = CustomerFactory(name="Amy Lee", email="amy@example.com", language="en", balance=Decimal("120.00"))
    close_card(card, settlement="refund", settlement_method="wechat")

    sending.send_due()

    [message] = smtp_server.to("amy@example.com")
    assert message["Subject"] == f"Your card {card.customer_no} has been closed"
    assert message["Content-Language"] == "en"
    assert "Your balance: ¥120.00 refunded by WeChat Pay." in smtp_server.text(message)
    assert smtp_server.envelopes == [("crm@localhost", ["amy@example.com"])]


def test_the_message_carries_one_click_unsubscribe_headers_and_a_stable_message_id(smtp_server, close_card):
    card = CustomerFactory(email="li@example.cn")
    close_card(card)
    sending.send_due()
    [message] = smtp_server.messages
    notice = notice_of(card)
    link = unsubscribe_link(message)
    assert link.startswith("http://127.0.0.1:8000/") and link in smtp_server.text(message)
    assert f'<a href="{link}">' in smtp_server.html(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == f"<followup.{notice.key.hex}@127.0.0.1>"
    assert link.split("/u/")[1].startswith(notice.key.hex)  # the signed random key, not the id


def test_the_unsubscribe_link_in_the_message_works_when_followed(smtp_server, close_card):
    card = CustomerFactory(email="li@example.cn", language="zh-hans")
    close_card(card)
    sending.send_due()
    path = urlsplit(unsubscribe_link(smtp_server.messages[0])).path

    page = Client().get(path)
    assert "停止接收通过电子邮件发送的服务消息" in page.content.decode()
    Client().post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")

    assert ContactConsent.objects.get(customer=card, channel="email").service is False


def test_hostile_customer_data_is_escaped_in_html_and_adds_no_header(smtp_server, close_card):
    hostile = '<script>alert(1)</script>\r\nBcc: victim@example.com =HYPERLINK("http://evil.example/x","Click")'
    card = CustomerFactory(name=hostile[:100], email="target@example.com", language="en")
    Followup.objects.all().delete()
    from followups.models import MessageTemplate

    MessageTemplate.objects.filter(kind="notice", channel="email", language="en").update(
        subject="Hello {name}", body="Dear {name},\n\nBye.\n\nStop: {unsubscribe_link}"
    )
    close_card(card)

    sending.send_due()

    [message] = smtp_server.messages
    assert smtp_server.envelopes[0][1] == ["target@example.com"]  # no Bcc smuggled in
    assert message["Bcc"] is None and "victim" not in str(message["To"])
    assert "\n" not in message["Subject"] and message["Subject"].startswith("Hello <script>")
    html = smtp_server.html(message)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="http://evil' not in html and "=HYPERLINK(&quot;http://evil.example/x&quot;" in html
    assert "<script>alert(1)</script>" in smtp_server.text(message)  # plain text is shown as text


def test_settlement_words_cover_transfer_points_and_no_balance(smtp_server, close_card):
    from closures.models import Closure

    closure = Closure(settlement="", settled_amount=None)
    assert sending.settlement_words(closure) == "there was no balance on the card"
    other = CustomerFactory(customer_no="C000999")
    transfer = Closure(settlement="transfer", settled_amount=Decimal("50.00"), settled_points=20, settled_to=other)
    assert sending.settlement_words(transfer) == "¥50.00 and 20 points transferred to card C000999"
    assert sending.settlement_words(Closure(settlement="forfeit", settled_points=1)) == "1 point forfeited"


def test_a_missing_template_falls_back_to_the_other_language(smtp_server, close_card):
    from followups.models import MessageTemplate

    MessageTemplate.objects.filter(kind="notice", channel="email", language="en").delete()
    card = CustomerFactory(email="amy@example.com", language="en")
    close_card(card)
    sending.send_due()
    assert smtp_server.messages[0]["Subject"].startswith("您的会员卡")
