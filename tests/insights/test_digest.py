"""The owners' daily risk digest by e-mail (insights/digest.py): each owner with something new gets
one mail listing only their customers newly at risk, with the reason in words, the value at risk
and a link to the card, and their retention callbacks due; nothing new, no mail; once a day; only
where configured; in the language the owner reads the app in."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from customers.models import local_today
from insights.digest import send_digests
from insights.models import DigestReader, DigestSent, RetentionAction
from insights.runs import score_customers
from tests.factories import CustomerFactory, UserFactory

from .shops import steady, stopped

pytestmark = pytest.mark.django_db
REASON = "No purchase for 94 days; this customer usually buys every 21."


@pytest.fixture(autouse=True)
def digest_on(settings):
    settings.INSIGHTS_DIGEST_EMAIL = True
    settings.SITE_URL = "https://crm.example.com"


@pytest.fixture
def owners():
    return UserFactory(username="owner_li", role="Staff"), UserFactory(username="owner_wu", role="Staff")


def subject(count: int) -> str:
    return ngettext("%(count)d of your customers newly at risk", "%(count)d of your customers newly at risk", count) % {
        "count": count
    }


def test_a_run_that_warns_about_two_owners_cards_mails_each_owner_only_their_own(owners):
    li, wu = owners
    li_card = stopped(li, customer_no="D000001")
    stopped(wu, customer_no="D000002")
    steady(li, customer_no="D000003")
    steady(UserFactory(username="owner_quiet", role="Staff"), customer_no="D000004")
    score_customers()

    done = send_digests()

    assert (done.sent, done.no_address, done.already) == (2, 0, 0)
    by_address = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_address) == ["owner_li@example.com", "owner_wu@example.com"]
    to_li = by_address["owner_li@example.com"]
    assert to_li.subject == "1 of your customers newly at risk"
    assert "D000001" in to_li.body and li_card.name in to_li.body
    assert REASON in to_li.body
    assert "High risk" in to_li.body
    assert f"https://crm.example.com{reverse('customers:card', args=[li_card.pk])}" in to_li.body
    assert "D000002" not in to_li.body and "D000003" not in to_li.body  # not theirs; theirs but steady
    html, kind = to_li.alternatives[0]
    assert kind == "text/html" and REASON in html and "D000001" in html
    assert "D000002" in by_address["owner_wu@example.com"].body
    assert "D000001" not in by_address["owner_wu@example.com"].body
    assert DigestSent.objects.filter(user__in=owners, day=local_today()).count() == 2


def test_an_owner_with_nothing_new_gets_no_mail(owners):
    li, _wu = owners
    steady(li)
    score_customers()

    assert send_digests().sent == 0
    assert mail.outbox == []


def test_a_second_run_the_same_day_mails_nobody_again(owners):
    li, _wu = owners
    stopped(li)
    score_customers()
    assert send_digests().sent == 1

    again = send_digests()

    assert (again.sent, again.already) == (0, 1)
    assert len(mail.outbox) == 1


def test_the_next_digest_lists_only_what_became_news_since_the_last(owners):
    li, _wu = owners
    stopped(li, customer_no="D000011")
    score_customers()
    send_digests()
    stopped(li, customer_no="D000012")
    score_customers()  # the first card's warning stays open: not news again

    tomorrow = send_digests(now=timezone.now() + timedelta(days=1))

    assert tomorrow.sent == 1
    assert "D000012" in mail.outbox[1].body and "D000011" not in mail.outbox[1].body
    assert send_digests(now=timezone.now() + timedelta(days=2)).sent == 0  # nothing new since


def test_with_the_setting_off_nobody_is_mailed(owners, settings):
    settings.INSIGHTS_DIGEST_EMAIL = False
    stopped(owners[0])
    score_customers()

    assert send_digests().off
    assert mail.outbox == []
    assert not DigestSent.objects.exists()


def test_an_owner_without_an_address_is_skipped_and_counted(owners):
    nobody = UserFactory(username="owner_nomail", email="", role="Staff")
    stopped(nobody)
    stopped(owners[0])
    score_customers()
    out = StringIO()

    call_command("send_risk_digest", stdout=out)

    assert "Sent 1 digests; skipped 1 owners without an e-mail address" in out.getvalue()
    assert [message.to for message in mail.outbox] == [["owner_li@example.com"]]


def test_the_digest_is_in_the_language_the_owner_reads_the_app_in(owners, client):
    li, _wu = owners
    client.force_login(li)
    client.get(reverse("inbox"), HTTP_ACCEPT_LANGUAGE="zh-hans")  # the inbox notes the reader's language
    assert DigestReader.objects.get(user=li).language == "zh-hans"
    stopped(li)
    score_customers()

    send_digests()

    with translation.override("zh-hans"):
        assert mail.outbox[0].subject == subject(1)
    assert "已 94 天没有购买；该客户通常每 21 天购买一次。" in mail.outbox[0].body


def test_retention_callbacks_due_are_in_the_digest(owners):
    li, wu = owners
    card = CustomerFactory(owner=wu, customer_no="D000021")
    today = local_today()
    RetentionAction.objects.create(
        customer=card, kind=RetentionAction.Kind.CALLBACK, assigned_to=li, due_on=today, note="问问为什么不来了"
    )
    RetentionAction.objects.create(
        customer=CustomerFactory(customer_no="D000022"),
        kind=RetentionAction.Kind.CALLBACK,
        assigned_to=li,
        due_on=today + timedelta(days=1),
    )

    assert send_digests().sent == 1

    (message,) = mail.outbox
    assert message.to == ["owner_li@example.com"]
    assert message.subject == "1 retention callback due"
    assert "D000021" in message.body and "问问为什么不来了" in message.body
    assert "D000022" not in message.body  # due tomorrow
