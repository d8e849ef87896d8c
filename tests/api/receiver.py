"""A real HTTP receiver for the webhook tests: a ThreadingHTTPServer on 127.0.0.1, port 0, in a thread.

It keeps what it was sent (headers and the raw body) and answers as told: ``answers`` is a list of
statuses used one per request (then ``status``), ``delay`` seconds before answering (a timeout).
HTTP/1.1 with keep-alive, as a real receiver, so the sender's kept connections are exercised too.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    status: int = 200
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    decide: Callable[[bytes], int | None] | None = None  # a status for this body, or None: as above
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/crm"

    def answer(self, body: bytes) -> int:
        if self.decide is not None:
            status = self.decide(body)
            if status is not None:
                return status
        with self.lock:
            return self.answers.pop(0) if self.answers else self.status

    @property
    def envelopes(self) -> list[dict]:
        return [r.json for r in self.received]

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]


def start() -> Receiver:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else its headers and body wait on delayed ACKs: 40 ms a request

        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.answer(body)
            if receiver.delay:
                time.sleep(receiver.delay)
            with receiver.lock:
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # quiet
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, name="receiver", daemon=True).start()
    return receiver
