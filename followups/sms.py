"""Text messages: one small interface, a file backend for development and an HTTP provider adapter.

    backend().send(phone, *, template_code, params, text, reference="") -> the provider's message id

raises :class:`SmsError` with words a person can act on (the provider's own message when it gave
one). ``SMS_BACKEND`` chooses the backend:

- ``file`` (default): each message is one JSON line appended to ``SMS_FILE_DIR`` (default
  ``var/sms``)/``YYYY-MM-DD.jsonl``; nothing leaves the machine.
- ``http``: :class:`HttpBackend`, in the shape Chinese providers (Aliyun SendSms, Tencent SMS) use:
  only registered templates are sent, so the request names the sign name (签名, ``SMS_SIGN_NAME``),
  the template code (``MessageTemplate.provider_template``) and the template's parameters as JSON,
  never free text. It is form-encoded and signed: the parameters sorted by name, percent-encoded
  (RFC 3986), joined ``k=v&...``, then ``POST&%2F&<that, percent-encoded>`` signed by HMAC-SHA256
  with ``SMS_SECRET``, base64 (Aliyun's signature version 1.0 with SHA-256). ``Timestamp`` (UTC)
  and a random ``SignatureNonce`` stop a captured request from being replayed; ``OutId`` carries
  the follow-up's key so the provider's records lead back to it. ``SMS_TIMEOUT`` bounds the wait.
  An answer whose ``Code`` is not ``OK`` raises SmsError with the provider's ``Message``.
- a dotted path to a class with the same ``send``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib import error, parse, request

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The message was not accepted; ``str(exc)`` says why."""


class SmsUnavailable(SmsError):
    """The provider could not be reached or did not answer in time (try the others later)."""


class FileBackend:
    """Development: append each message to a JSON-lines file (and log it)."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory or getattr(settings, "SMS_FILE_DIR", "") or settings.BASE_DIR / "var" / "sms")

    def send(self, phone: str, *, template_code: str, params: dict, text: str, reference: str = "") -> str:
        message_id = f"file-{uuid.uuid4().hex}"
        record = {
            "id": message_id,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "phone": phone,
            "template_code": template_code,
            "params": params,
            "text": text,
            "reference": reference,
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.directory / f"{datetime.now(UTC):%Y-%m-%d}.jsonl", "a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise SmsError(f"Could not write the message file: {exc}") from exc
        logger.info("SMS to %s (%s) written to %s", phone[-4:].rjust(len(phone), "*"), template_code, self.directory)
        return message_id


def percent(value: str) -> str:
    """RFC 3986 percent-encoding, as the providers sign it (space as %20, ``~`` kept)."""
    return parse.quote(str(value), safe="~")


def signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """The HMAC-SHA256 signature of ``params`` (without ``Signature``), base64."""
    canonical = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent('/')}&{percent(canonical)}"
    digest = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class HttpBackend:
    """A provider's SendSms API over HTTPS (see the module's docstring for the request's shape)."""

    def __init__(self, url=None, access_key=None, secret=None, sign_name=None, timeout=None):
        self.url = url if url is not None else getattr(settings, "SMS_API_URL", "")
        self.access_key = access_key if access_key is not None else getattr(settings, "SMS_ACCESS_KEY", "")
        self.secret = secret if secret is not None else getattr(settings, "SMS_SECRET", "")
        self.sign_name = sign_name if sign_name is not None else getattr(settings, "SMS_SIGN_NAME", "")
        self.timeout = float(timeout if timeout is not None else getattr(settings, "SMS_TIMEOUT", 10))

    def params(self, phone: str, template_code: str, values: dict, reference: str = "") -> dict[str, str]:
        found = {
            "Action": "SendSms",
            "Format": "JSON",
            "AccessKeyId": self.access_key,
            "PhoneNumbers": phone,
            "SignName": self.sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "SignatureMethod": "HMAC-SHA256",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
        }
        if reference:
            found["OutId"] = reference
        return found

    def send(self, phone: str, *, template_code: str, params: dict, text: str = "", reference: str = "") -> str:
        if not (self.url and self.access_key and self.secret and self.sign_name):
            raise SmsError("SMS is not configured: set SMS_API_URL, SMS_ACCESS_KEY, SMS_SECRET and SMS_SIGN_NAME.")
        if not template_code:
            raise SmsError("The message template has no provider template code; the provider sends only those.")
        body = self.params(phone, template_code, params, reference)
        body["Signature"] = signature(body, self.secret)
        answer = self._post(parse.urlencode(body).encode())
        if str(answer.get("Code", "")).upper() != "OK":
            code, message = answer.get("Code", "?"), answer.get("Message", "no message")
            raise SmsError(f"The SMS provider refused the message: {code}: {message}")
        return str(answer.get("BizId") or answer.get("RequestId") or "")

    def _post(self, data: bytes) -> dict:
        if parse.urlsplit(self.url).scheme not in ("http", "https"):
            raise SmsError("SMS_API_URL must be an http:// or https:// address.")
        req = request.Request(  # noqa: S310 (the scheme is checked above)
            self.url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": "application/json"},
        )
        try:
            with request.urlopen(req, timeout=self.timeout) as response:  # noqa: S310 (the URL is the setting)
                raw = response.read()
        except error.HTTPError as exc:  # a 4xx/5xx still carries the provider's JSON, usually
            raw = exc.read()
            if not raw:
                raise SmsError(f"The SMS provider answered HTTP {exc.code}.") from exc
        except TimeoutError as exc:
            raise SmsUnavailable(f"The SMS provider did not answer within {self.timeout:g} s.") from exc
        except (error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise SmsUnavailable(f"The SMS provider did not answer within {self.timeout:g} s.") from exc
            raise SmsUnavailable(f"Could not reach the SMS provider: {reason}") from exc
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise SmsError(f"The SMS provider's answer is not JSON: {raw[:200]!r}") from exc


BACKENDS = {"file": FileBackend, "http": HttpBackend}


def backend():
    """The configured backend (SMS_BACKEND: file, http or a dotted class path)."""
    name = getattr(settings, "SMS_BACKEND", "") or "file"
    return (BACKENDS.get(name) or import_string(name))()
