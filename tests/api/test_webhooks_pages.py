"""The webhook pages: Admins add an endpoint (its secret shown once), fix a bad URL from the message
next to it, send a test event, read the delivery log and redeliver from it."""

import re

import pytest
from django.urls import reverse

from api import delivery
from api.models import WebhookDelivery, WebhookEndpoint
from crm.models import AuditEntry

pytestmark = pytest.mark.django_db

ADD = "/integration/webhooks/new/"


def form(url, **more):
    return {"name": "Finance", "url": url, "events": ["card.closed", "card.updated"], **more}


def test_a_new_endpoint_shows_its_secret_once(admin_client, receiver):
    response = admin_client.post(ADD, form(receiver.url, fields=["phone"]))

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    html = response.content.decode()
    assert "Endpoint Finance added" in html and "it is shown only this once" in html
    assert f'value="{endpoint.secret}"' in html and re.fullmatch(r"whsec_[A-Za-z0-9+/=]{44}", endpoint.secret)
    assert (endpoint.events, endpoint.fields, endpoint.enabled) == (["card.closed", "card.updated"], ["phone"], True)
    for page in (reverse("integration:webhook_list"), reverse("integration:webhook_edit", args=[endpoint.pk])):
        assert endpoint.secret not in admin_client.get(page).content.decode()
    entry = AuditEntry.objects.get(action="webhook.create")
    assert entry.actor.username == "admin_zhao" and endpoint.secret not in str(entry.data)


def test_a_url_on_an_internal_address_gets_a_message_next_to_the_field(admin_client):
    response = admin_client.post(ADD, form("http://127.0.0.1:5432/"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_url_error"' in html
    assert "127.0.0.1 resolves to 127.0.0.1, an internal address" in html
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "data, field, message",
    [
        (form("gopher://93.184.216.34/"), "url", "Only http:// and https://"),
        (form("https://93.184.216.34/", events=[]), "events", "Choose at least one event."),
        (form("https://93.184.216.34/", events=["card.exploded"]), "events", "Select a valid choice."),
        (form("https://93.184.216.34/", name="   "), "name", "This field is required."),
        (form("http://[::1"), "url", "This is not a web address."),
        (form("https://93.184.216.34/" + "a" * 500), "url", "at most 500 characters"),
        (form("https://93.184.216.34/", fields=["password"]), "fields", "Select a valid choice."),
    ],
    ids=["scheme", "no event", "unknown event", "blank name", "broken", "too long", "unknown field"],
)
def test_bad_input_is_explained_next_to_its_field_never_a_500(admin_client, data, field, message):
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(rf'id="id_{field}_error">([^<]*)<', html)
    assert error and message in error.group(1)


def test_the_list_shows_status_and_failures(admin_client, receiver, subscribe):
    endpoint, _secret = subscribe(receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason="failures", consecutive_failures=12
    )
    html = admin_client.get(reverse("integration:webhook_list")).content.decode()
    row = html[html.index(f'id="endpoint-{endpoint.pk}"') :]
    assert "Disabled after repeated failures" in row and ">12<" in row


def test_editing_disables_and_enables_an_endpoint(admin_client, receiver, subscribe):
    endpoint, _secret = subscribe(receiver)
    url = reverse("integration:webhook_edit", args=[endpoint.pk])
    response = admin_client.post(url, form(receiver.url))  # "enabled" unticked
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "admin")
    admin_client.post(url, form(receiver.url, enabled="on"))
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (True, "")
    assert AuditEntry.objects.filter(action="webhook.update").count() == 2


def test_send_test_event_reaches_the_receiver_and_shows_in_the_log(admin_client, receiver, subscribe):
    endpoint, _secret = subscribe(receiver)
    response = admin_client.post(reverse("integration:webhook_test", args=[endpoint.pk]), follow=True)
    assert "A test event is on its way to Finance" in response.content.decode()
    delivery.send_due()
    assert [e["type"] for e in receiver.envelopes] == ["webhook.test"]

    html = admin_client.get(reverse("integration:webhook_log", args=[endpoint.pk])).content.decode()
    sent = WebhookDelivery.objects.get()
    row = html[html.index(f'id="delivery-{sent.pk}"') :]
    assert "Test event" in row and "Delivered" in row and ">200<" in row and "Redeliver" in row


def test_redeliver_from_the_log_sends_it_again(admin_client, receiver, subscribe, admin_user):
    from api import webhooks

    endpoint, _secret = subscribe(receiver)
    webhooks.send_test(endpoint, by=admin_user)
    delivery.send_due()
    sent = WebhookDelivery.objects.get()

    url = reverse("integration:webhook_redeliver", args=[endpoint.pk, sent.pk])
    response = admin_client.post(url, follow=True)
    assert f"Delivery evt_{sent.event_id} will be sent again now." in response.content.decode()
    delivery.send_due()
    assert len(receiver.received) == 2 and receiver.received[0].body == receiver.received[1].body


def test_a_delivery_of_another_endpoint_cannot_be_redelivered_through_this_one(admin_client, receiver, subscribe):
    first, _secret = subscribe(receiver, name="Finance")
    other, _secret = subscribe(receiver, name="Shop")
    from api import webhooks

    webhooks.send_test(other, by=first.created_by)
    theirs = WebhookDelivery.objects.get()
    response = admin_client.post(reverse("integration:webhook_redeliver", args=[first.pk, theirs.pk]))
    assert response.status_code == 404


def test_rotating_the_secret_shows_the_new_one_once(admin_client, receiver, subscribe):
    endpoint, old = subscribe(receiver)
    response = admin_client.post(reverse("integration:webhook_rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and f'value="{endpoint.secret}"' in response.content.decode()


def test_the_log_is_paginated_newest_first(admin_client, receiver, subscribe, admin_user):
    from api import webhooks

    endpoint, _secret = subscribe(receiver)
    for _ in range(52):
        webhooks.send_test(endpoint, by=admin_user)
    newest, oldest = WebhookDelivery.objects.order_by("-id")[0], WebhookDelivery.objects.order_by("id")[0]
    url = reverse("integration:webhook_log", args=[endpoint.pk])
    first = admin_client.get(url).content.decode()
    assert f'id="delivery-{newest.pk}"' in first and f'id="delivery-{oldest.pk}"' not in first
    assert 'rel="next"' in first
    second = admin_client.get(f"{url}?page=2").content.decode()
    assert f'id="delivery-{oldest.pk}"' in second and 'rel="next"' not in second


def test_the_menu_shows_webhooks_to_admins_only(admin_client, manager_client):
    link = reverse("integration:webhook_list")
    assert link in admin_client.get("/inbox/").content.decode()
    assert link not in manager_client.get("/inbox/").content.decode()


def test_the_admins_inbox_lists_an_endpoint_disabled_after_failures(admin_client, receiver, subscribe):
    endpoint, _secret = subscribe(receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason="failures")
    html = admin_client.get("/inbox/").content.decode()
    assert "Webhook endpoints disabled after failures" in html
    assert reverse("integration:webhook_list") in html
