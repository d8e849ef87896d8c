"""Webhooks never reach the CRM's own network: internal addresses are refused when an endpoint is
saved and again when it is sent to, so a name that later resolves inwards (DNS rebinding) is not followed."""

import socket

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from api import delivery, ssrf, webhooks
from api.models import WebhookDelivery, WebhookEndpoint
from crm import outbox
from customers import gate
from customers.gate import FORM
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fd00:ec2::254",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::",
    ],
)
def test_internal_addresses_are_forbidden(address):
    assert ssrf.forbidden(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address):
    assert not ssrf.forbidden(address)


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://127.0.0.1:8000/hooks", "127.0.0.1, an internal address"),
        ("http://localhost/hooks", "an internal address"),
        ("https://10.0.0.5/hooks", "10.0.0.5, an internal address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, an internal address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254, an internal address"),
        ("ftp://93.184.216.34/hooks", "Only http:// and https://"),
        ("https:///hooks", "names no host"),
        ("https://93.184.216.34:99999/", "port"),
    ],
)
def test_an_endpoint_on_an_internal_address_is_refused_when_saved(url, words, admin_user):
    with pytest.raises(ValidationError, match=words):
        webhooks.create_endpoint(name="Inside", url=url, events=["card.closed"], fields=[], by=admin_user)
    assert not WebhookEndpoint.objects.exists()


def fake_dns(monkeypatch, address: str):
    def getaddrinfo(host, port, *args, **kwargs):
        if host == "hooks.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        raise socket.gaierror("not in this test")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_resolving_to_a_private_address_at_send_time_is_refused(monkeypatch, admin_user, staff_user):
    fake_dns(monkeypatch, "93.184.216.34")
    endpoint, _secret = webhooks.create_endpoint(
        name="Shop", url="http://hooks.example.test/crm", events=["card.updated"], fields=[], by=admin_user
    )
    fake_dns(monkeypatch, "10.0.0.7")  # the name now points inwards

    def no_connection(*args, **kwargs):
        raise AssertionError("connected although the address was refused")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    gate.update_card(CustomerFactory(city="上海"), {"city": "北京"}, by=staff_user, source=FORM)
    outbox.dispatch()
    delivery.send_due()

    stored = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (stored.status, stored.attempts, stored.last_status_code) == ("pending", 1, None)
    assert "hooks.example.test resolves to 10.0.0.7" in stored.shown_error
    with translation.override("zh-hans"):
        assert "hooks.example.test 解析为内部地址 10.0.0.7" in stored.shown_error


def test_an_unknown_host_is_refused_with_its_name(monkeypatch, admin_user):
    fake_dns(monkeypatch, "93.184.216.34")
    with pytest.raises(ValidationError, match="nowhere.example.test could not be found"):
        webhooks.create_endpoint(
            name="Lost", url="https://nowhere.example.test/", events=["card.closed"], fields=[], by=admin_user
        )


def test_hosts_allowed_by_the_setting_may_be_internal(settings, admin_user):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    endpoint, _secret = webhooks.create_endpoint(
        name="On premises", url="http://localhost:9000/hooks", events=["card.closed"], fields=[], by=admin_user
    )
    assert endpoint.pk
    with pytest.raises(ValidationError, match="internal address"):
        webhooks.create_endpoint(
            name="Other", url="http://127.0.0.2:9000/hooks", events=["card.closed"], fields=[], by=admin_user
        )
