"""The one-click unsubscribe page: in the customer's language with a switch, a button that stops
exactly the kind of message the link came in (audited as the customer's own change), the RFC 8058
POST from mail clients, a friendly page for a broken link, nothing to do for an erased card."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEntry
from customers.models import ContactConsent
from followups import links
from followups.models import Followup, Kind
from tests.factories import ClosureFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def followup(kind=Kind.SURVEY, channel="email", language="", **card):
    customer = CustomerFactory(status="closed", **card)
    return Followup.objects.create(
        kind=kind,
        channel=channel,
        customer=customer,
        closure=ClosureFactory(customer=customer),
        due_at=timezone.now(),
        state=Followup.State.SENT,
        language=language,
    )


def url(row):
    return reverse("followups:unsubscribe", kwargs={"token": links.unsubscribe_token(row)})


def consent(row):
    return ContactConsent.objects.filter(customer=row.customer, channel=row.channel).first()


def test_the_page_says_what_will_stop_in_the_customers_language_and_changes_nothing_yet():
    row = followup(language="en")
    page = Client().get(url(row)).content.decode()
    assert '<html lang="en">' in page
    assert "Stop receiving surveys and offers by e-mail?" in page
    assert 'href="?lang=zh-hans"' in page  # the switch to the other language
    assert row.customer.name not in page  # a forwarded link shows no personal data
    assert consent(row) is None


def test_the_switch_shows_it_in_the_other_language():
    row = followup(language="en")
    page = Client().get(url(row) + "?lang=zh-hans").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "停止接收通过电子邮件发送的问卷和优惠信息" in page


def test_without_a_language_on_the_follow_up_the_customers_language_is_used():
    row = followup(language="")
    row.customer.__class__.objects.filter(pk=row.customer.pk).update(language="zh-hans")
    assert '<html lang="zh-hans">' in Client().get(url(row)).content.decode()


def test_the_button_withdraws_marketing_consent_for_a_survey_or_offer_and_records_who():
    row = followup(kind=Kind.WINBACK, language="en")
    ContactConsent.objects.create(customer=row.customer, channel="email", marketing=True)

    page = Client(enforce_csrf_checks=True).post(url(row)).content.decode()

    assert "You will no longer receive surveys and offers by e-mail." in page
    found = consent(row)
    assert (found.marketing, found.service) == (False, True)
    entry = AuditEntry.objects.get(action="customer.consent")
    assert entry.actor_id is None and entry.data["source"] == {"kind": "unsubscribe"}


def test_a_notices_link_stops_service_messages_on_its_channel_only():
    row = followup(kind=Kind.NOTICE, channel="sms", language="en")
    Client().post(url(row))
    assert consent(row).service is False
    assert not ContactConsent.objects.filter(customer=row.customer, channel="email").exists()


def test_a_mail_clients_one_click_post_works_without_a_csrf_token():
    row = followup(kind=Kind.SURVEY)
    ContactConsent.objects.create(customer=row.customer, channel="email", marketing=True)
    response = Client(enforce_csrf_checks=True).post(
        url(row), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert consent(row).marketing is False


def test_a_broken_link_gets_a_friendly_not_found_page():
    row = followup()
    token = links.unsubscribe_token(row)
    response = Client().get(reverse("followups:unsubscribe", kwargs={"token": token[:-2] + "xx"}))
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert Client().post(reverse("followups:unsubscribe", kwargs={"token": "nope"})).status_code == 404


def test_an_erased_card_has_nothing_to_do():
    row = followup(kind=Kind.SURVEY, language="en")
    row.customer.__class__.objects.filter(pk=row.customer.pk).update(status="erased")
    response = Client().post(url(row))
    assert "Nothing to do" in response.content.decode()
    assert consent(row) is None


def test_get_never_unsubscribes():
    """Link scanners fetch every link in a message; only the button (a POST) changes anything."""
    row = followup(kind=Kind.SURVEY)
    ContactConsent.objects.create(customer=row.customer, channel="email", marketing=True)
    Client().get(url(row))
    assert consent(row).marketing is True
