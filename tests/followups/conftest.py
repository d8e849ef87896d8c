"""Real servers for the follow-ups' tests: an SMTP server (aiosmtpd) and an SMS provider (http.server).

``smtp_server``: a real SMTP server on a free local port; Django's SMTP backend is pointed at it.

    smtp_server.messages          every delivered message, parsed (email.message.EmailMessage,
                                  policy "default": msg["Subject"], msg.get_body(("plain",)) ...)
    smtp_server.to(address)       the messages delivered to one address
    smtp_server.envelopes         (mail from, [rcpt to]) of each delivery, as the server saw them
    smtp_server.stop() / start()  "SMTP down" and back up (same port)
    smtp_server.text(msg) / html(msg)   the plain and HTML parts as str

``sms_provider``: a real HTTP server in a thread answering like a provider's SendSms API; the
settings point SMS_BACKEND=http at it.

    sms_provider.requests         the form fields of each request (dict), in order
    sms_provider.answer = "ok" | "error" | "timeout" | "http500"

The server classes are in tests/followups/servers.py (for fixtures elsewhere, e.g. with a
live_server in tests/browser). ``close_card`` closes a card through the closure operation and
hands the event to the planner.
"""

import pytest

from .servers import SmsProvider, SmtpServer, deliver_to, free_port


@pytest.fixture
def smtp_server(settings):
    """A real local SMTP server that Django's SMTP backend delivers to (see the module docstring)."""
    server = SmtpServer(free_port())
    server.start()
    deliver_to(settings, server)
    yield server
    server.stop()


@pytest.fixture
def sms_provider(settings):
    """A real local HTTP server answering like an SMS provider; SMS_BACKEND=http points at it."""
    provider = SmsProvider()
    provider.start()
    settings.SMS_BACKEND = "http"
    settings.SMS_API_URL = provider.url
    settings.SMS_ACCESS_KEY, settings.SMS_SECRET, settings.SMS_SIGN_NAME = "test-key", "test-secret", "测试商城"
    settings.SMS_TIMEOUT = 0.3
    yield provider
    provider.stop()


# --- Closing cards the way staff do --------------------------------------------------------------


@pytest.fixture
def close_card(staff_user):
    """``close_card(card, code="customer-request", **choice)``: close it through closures.operations
    (as staff_user) and hand the event to the planner (outbox.dispatch); returns the Closure."""
    from closures import operations
    from closures.models import ClosureReason
    from closures.rules import ClosureChoice
    from crm import outbox

    def close(card, code="customer-request", action="close", **choice):
        reason = ClosureReason.objects.get(code=code)
        closure = operations.close_customer(card, ClosureChoice(action, reason, **choice), by=staff_user)
        outbox.dispatch()
        return closure

    return close


@pytest.fixture
def empty_policy(db):
    """No rule and no message template: for tests that write the policy from nothing (the default
    ones come from migration 0004_default_policy)."""
    from followups.models import MessageTemplate, Rule

    Rule.objects.all().delete()
    MessageTemplate.objects.all().delete()
