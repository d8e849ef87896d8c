"""Text messages: the provider adapter's request (sign name, template code, parameters as JSON,
timestamp, nonce, HMAC-SHA256 signature) checked against a real local HTTP server, its errors and
timeouts turned into retries and then a failure; the development backend writes a file."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from customers.models import ContactConsent
from followups import sending, sms
from followups.models import Followup, Kind, Rule
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms_policy(db):
    """Closure notices by SMS, with the provider's template code set."""
    Rule.objects.all().delete()
    Rule.objects.create(action="close", kind=Kind.NOTICE, channel="sms")
    from followups.models import MessageTemplate

    MessageTemplate.objects.filter(kind="notice", channel="sms").update(provider_template="SMS_0001")


def expected_signature(fields: dict, secret: str) -> str:
    enc = lambda v: quote(str(v), safe="~")  # noqa: E731
    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(fields.items()) if k != "Signature")
    to_sign = "POST&%2F&" + enc(canonical)
    return base64.b64encode(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).digest()).decode()


def test_the_provider_gets_a_signed_template_request(sms_provider, sms_policy, close_card):
    card = CustomerFactory(name="王小明", phone="+8613912345678", language="zh-hans")
    close_card(card)

    assert sending.send_due().sent == 1

    [request] = sms_provider.requests
    assert request["PhoneNumbers"] == "+8613912345678"
    assert (request["SignName"], request["TemplateCode"]) == ("测试商城", "SMS_0001")
    assert request["AccessKeyId"] == "test-key"
    params = json.loads(request["TemplateParam"])
    assert set(params) == {"customer_no", "settlement", "unsubscribe_link"}  # exactly what the template uses
    assert params["customer_no"] == card.customer_no and params["unsubscribe_link"].startswith("http://")
    assert request["SignatureMethod"] == "HMAC-SHA256" and len(request["SignatureNonce"]) == 32
    assert request["Timestamp"].endswith("Z")
    assert request["Signature"] == expected_signature(request, "test-secret")
    row = Followup.objects.get(customer=card)
    assert request["OutId"] == row.key.hex
    assert (row.state, row.address) == (Followup.State.SENT, "+8613912345678")


def test_two_requests_never_share_a_nonce(sms_provider):
    backend = sms.HttpBackend()
    for _ in range(2):
        backend.send("+8613900000000", template_code="SMS_1", params={"a": "b"}, text="t")
    assert sms_provider.requests[0]["SignatureNonce"] != sms_provider.requests[1]["SignatureNonce"]


def test_a_provider_error_is_retried_then_failed_with_its_message(sms_provider, sms_policy, close_card, settings):
    settings.FOLLOWUP_MAX_ATTEMPTS = 2
    card = CustomerFactory(phone="+8613912345678")
    close_card(card)
    sms_provider.answer = "error"

    assert sending.send_due().retrying == 1
    row = Followup.objects.get(customer=card)
    assert row.attempts == 1 and "触发号码天级流控" in row.last_error and "isv.BUSINESS_LIMIT_CONTROL" in row.last_error
    Followup.objects.filter(pk=row.pk).update(due_at=timezone.now())
    assert sending.send_due().failed == 1
    assert Followup.objects.get(pk=row.pk).state == Followup.State.FAILED


def test_a_provider_that_does_not_answer_in_time_is_retried(sms_provider, sms_policy, close_card):
    first, second = CustomerFactory(phone="+8613900000001"), CustomerFactory(phone="+8613900000002")
    close_card(first)
    close_card(second)
    sms_provider.answer = "timeout"

    tally = sending.send_due()

    assert tally.retrying == 2 and len(sms_provider.requests) == 1  # the rest of the batch waits
    timed_out, waiting = Followup.objects.order_by("due_at", "pk")
    assert "did not answer within 0.3 s" in timed_out.last_error and timed_out.attempts == 1
    assert waiting.attempts == 0 and waiting.state == Followup.State.PENDING
    assert timed_out.due_at > timezone.now() + timedelta(seconds=50)


def test_an_http_error_without_a_body_is_an_error(sms_provider):
    sms_provider.answer = "http500"
    with pytest.raises(sms.SmsError, match="HTTP 500"):
        sms.HttpBackend().send("+8613900000000", template_code="SMS_1", params={}, text="t")


def test_the_provider_is_not_called_without_configuration(settings):
    settings.SMS_API_URL = ""
    with pytest.raises(sms.SmsError, match="not configured"):
        sms.HttpBackend().send("+8613900000000", template_code="SMS_1", params={}, text="t")


def test_sms_needs_consent_too(sms_provider, sms_policy, close_card):
    card = CustomerFactory(phone="+8613912345678")
    ContactConsent.objects.create(customer=card, channel="sms", do_not_contact=True)
    close_card(card)
    sending.send_due()
    assert sms_provider.requests == []
    assert Followup.objects.get(customer=card).state == Followup.State.SKIPPED


def test_the_development_backend_writes_each_message_to_a_file(tmp_path, settings, sms_policy, close_card):
    settings.SMS_BACKEND, settings.SMS_FILE_DIR = "file", str(tmp_path)
    card = CustomerFactory(phone="+8613912345678", language="zh-hans")
    close_card(card)
    assert sending.send_due().sent == 1
    [written] = list(tmp_path.glob("*.jsonl"))
    line = json.loads(written.read_text(encoding="utf-8"))
    assert line["phone"] == "+8613912345678" and line["template_code"] == "SMS_0001"
    assert line["text"].startswith(f"您的会员卡{card.customer_no}已注销")
