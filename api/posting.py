"""POSTing a webhook: over this thread's kept connection to the receiver, to an address checked
against the CRM's own network (api/ssrf.py), within the request's time limits. api.delivery sends
its batches through :func:`post` on the threads of :func:`executor`.

    post(url, body, headers) -> int         the answer's status; OSError, TimeoutError, ssrf.Refused...
    executor() -> ThreadPoolExecutor        the process's sending threads (WEBHOOK_THREADS)

Each thread keeps its connections open between requests (HTTP/1.1 keep-alive). A new connection
resolves the host and checks every address, then connects to the checked address, with the name in
the Host header and in TLS (SNI, certificate): DNS rebinding cannot turn it inwards. Waits:
WEBHOOK_CONNECT_TIMEOUT to connect, WEBHOOK_TIMEOUT for the whole request.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from django.conf import settings

from . import ssrf

ANSWER_BYTES = 65536  # read at most this much of an answer (it is not kept)


def _setting(name: str, default):
    return getattr(settings, name, default)


class _Connections(threading.local):
    """Each sending thread's open connections, by (scheme, host, port)."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str, int], http.client.HTTPConnection] = {}


_connections = _Connections()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _forget_after_fork() -> None:
    """A forked child (a Celery or gunicorn worker) starts with no threads and no connections of its own."""
    global _pool, _pool_size, _connections, _pool_lock
    _pool, _pool_size, _connections, _pool_lock = None, 0, _Connections(), threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def executor() -> ThreadPoolExecutor:
    """The process's sending threads (kept, so their connections stay open between batches)."""
    global _pool, _pool_size
    threads = max(1, int(_setting("WEBHOOK_THREADS", 4)))
    with _pool_lock:
        if _pool is None or _pool_size != threads:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool, _pool_size = ThreadPoolExecutor(threads, thread_name_prefix="webhook"), threads
        return _pool


def _open(scheme: str, host: str, port: int) -> http.client.HTTPConnection:
    """A connection to a checked address of ``host`` (api/ssrf.py), speaking to it as ``host``."""
    addresses = ssrf.resolve(host, port)
    connect_timeout = float(_setting("WEBHOOK_CONNECT_TIMEOUT", 3))

    def connect_checked(_address, timeout=None, source_address=None):
        error: OSError | None = None
        for address in addresses:
            try:
                sock = socket.create_connection((address, port), min(connect_timeout, timeout or connect_timeout))
            except OSError as exc:
                error = exc
                continue
            sock.settimeout(timeout)
            return sock
        raise error or OSError(f"could not connect to {host}")

    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, port)
    conn._create_connection = connect_checked  # the checked address, never a second lookup
    return conn


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url`` over this thread's connection to its host; the answer's status."""
    scheme, host, port = ssrf.split(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + float(_setting("WEBHOOK_TIMEOUT", 10))
    key = (scheme, host.lower(), port)
    for fresh in (False, True):
        conn = _connections.open.pop(key, None)
        reused = conn is not None and not fresh
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            conn = _open(scheme, host, port)
        try:
            status, keep = _exchange(conn, path, body, headers, deadline)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            conn.close()
            if reused:  # the receiver closed an idle kept-alive connection: once more on a new one
                continue
            raise
        except BaseException:
            conn.close()
            raise
        if keep:
            _connections.open[key] = conn
        else:
            conn.close()
        return status
    raise AssertionError("unreachable")


def _exchange(conn, path: str, body: bytes, headers: dict[str, str], deadline: float) -> tuple[int, bool]:
    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    conn.timeout = left()
    if conn.sock is not None:
        conn.sock.settimeout(conn.timeout)
    conn.request("POST", path, body=body, headers=headers)
    conn.sock.settimeout(left())
    response = conn.getresponse()
    response.read(ANSWER_BYTES)
    left()
    return response.status, response.isclosed() and not response.will_close
