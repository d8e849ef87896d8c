"""Keeping webhooks off the CRM's own network (server-side request forgery).

An Admin types the URL a webhook is sent to; without a check it could point at the database, the
cloud's metadata service (169.254.169.254, fd00:ec2::254) or any machine only the CRM's server can
reach, and the delivery log would show their answers. So a URL is refused unless every address its
host resolves to is a public one: not loopback, private, link-local, multicast, reserved,
unspecified, shared (100.64.0.0/10) or a metadata address (``ipaddress``'s ``is_global``, plus the
explicit list below).

The check runs when the endpoint is saved and again at every new connection (``resolve``), and the
sender connects to the very address it checked, sending the name in the Host header and in TLS
(SNI and certificate check): a name that resolved to a public address at registration and to a
private one later (DNS rebinding) is refused, not followed. Only http and https.

``WEBHOOK_ALLOWED_HOSTS`` names hosts allowed anyway (tests, receivers on the same private network
in an on-premises install): their addresses are not checked.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop

from .models import stored_message

SCHEMES = ("http", "https")
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class Refused(Exception):
    """Why a webhook may not be sent to this host (the message names the address).

    ``str()`` is the message in the active language; ``stored()`` is what the delivery log keeps, so
    each reader sees it in their own language (api.models.shown_message)."""

    def __init__(self, message: str, **params):
        self.message, self.params = message, params
        super().__init__(message)

    def __str__(self) -> str:
        return gettext(self.message) % self.params if self.params else gettext(self.message)

    def stored(self) -> str:
        return stored_message(self.message, **self.params)


def allowed_anyway(host: str) -> bool:
    wanted = {name.strip().lower().rstrip(".") for name in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", [])}
    return host.lower().rstrip(".") in wanted


def forbidden(address: str) -> bool:
    """Whether ``address`` (an IP address as text) is one a webhook must never reach."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 address may carry a zone (%eth0)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip in METADATA or ip.is_multicast or not ip.is_global


def split(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a webhook URL; Refused for another scheme or no host."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 bracket)
        raise Refused(gettext_noop("This is not a web address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise Refused(gettext_noop("Only http:// and https:// addresses can receive webhooks."))
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise Refused(gettext_noop("The port of this address is not a number between 1 and 65535.")) from None
    if not host:
        raise Refused(gettext_noop("This address names no host."))
    return scheme, host, port or (443 if scheme == "https" else 80)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, once each is checked; Refused naming the first bad one
    (or when the name does not resolve). A host in WEBHOOK_ALLOWED_HOSTS is not checked."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(gettext_noop("The host %(host)s could not be found."), host=host) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Refused(gettext_noop("The host %(host)s could not be found."), host=host)
    if not allowed_anyway(host):
        for address in addresses:
            if forbidden(address):
                raise Refused(
                    gettext_noop(
                        "%(host)s resolves to %(address)s, an internal address (loopback, private, link-local "
                        "or metadata); webhooks are only sent to public addresses."
                    ),
                    host=host,
                    address=address,
                )
    return addresses


def check_url(url: str) -> None:
    """What the endpoint form runs: ValidationError with the reason when ``url`` may not receive webhooks."""
    try:
        _scheme, host, port = split(url)
        resolve(host, port)
    except Refused as exc:
        raise ValidationError(str(exc), code="ssrf") from None
