"""Real servers the follow-ups' tests talk to: an SMTP server (aiosmtpd) that keeps what it receives,
and an HTTP server answering like an SMS provider. The fixtures are in tests/followups/conftest.py;
another test package (e.g. tests/browser) can build its own fixture from these classes."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """An aiosmtpd server that keeps what it receives."""

    def __init__(self, port: int):
        self.port = port
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    @staticmethod
    def text(message) -> str:
        return message.get_body(("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(("html",)).get_content()


class _Provider(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's hook name)
        provider = self.server.provider
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        provider.requests.append(dict(parse_qsl(body, keep_blank_values=True)))
        provider.headers.append(dict(self.headers))
        if provider.answer == "timeout":
            time.sleep(provider.delay)
        if provider.answer == "http500":
            self.send_response(500)
            self.end_headers()
            return
        if provider.answer == "error":
            payload = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码天级流控", "RequestId": "R-1"}
        else:
            payload = {"Code": "OK", "Message": "OK", "BizId": f"biz-{len(provider.requests)}", "RequestId": "R-2"}
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (timeout)
            self.wfile.write(data)

    def log_message(self, *args):
        pass


class SmsProvider:
    def __init__(self):
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.answer = "ok"
        self.delay = 1.0
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
        self.http.daemon_threads = True
        self.http.provider = self
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/"
        self._thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self.http.shutdown()
        self.http.server_close()


def deliver_to(settings, server: SmtpServer) -> None:
    """Point Django's SMTP backend at ``server`` (``settings``: pytest-django's fixture)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = False, False
    settings.EMAIL_TIMEOUT = 5
