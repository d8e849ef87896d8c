"""The sending figure of ``manage.py bench``: ``send_due_followups`` delivering 10,000 due closure
notices by e-mail to a local SMTP server (aiosmtpd) that the benchmark starts in this process.

The run is the command itself (``call_command("send_due_followups")``): the outbox sweep, then every
due follow-up claimed, checked (closure, erasure, consent), rendered and sent over SMTP in batches,
and recorded. To time exactly those 10,000 messages:

1. the due pending messages the data set already has (surveys and offers that fell due since it
   was loaded, notices of the benchmark's own closures) are set aside (their due moment moved a
   century ahead), and put back afterwards;
2. 10,000 pending notices, due a minute ago, are written (one INSERT ... SELECT) for open card
   closures of customers with an e-mail address and consent on e-mail;
3. the command runs against the local server; the server counts what it received;
4. the benchmark's notices are deleted again (and the table vacuumed), whatever happened.

The server runs in this process (a thread of aiosmtpd's Controller), so the figure includes the
server's own work; the process CPU time reported is the sender's and the server's together.
"""

import io
import logging
import socket
import time
from contextlib import contextmanager

from django.core.management import call_command, get_commands
from django.db import connection
from django.test.utils import override_settings

from .lib import Unavailable

MESSAGES = 10_000
TARGET_S = 60
MARK = "bench: send_due_followups"  # the note on the benchmark's own notices, to find them again
ASIDE = "100 years"


class Mailbox:
    """An aiosmtpd handler that accepts every message and counts it."""

    def __init__(self):
        self.messages = 0
        self.recipients = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages += 1
        self.recipients += len(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server():
    """A local SMTP server (aiosmtpd) on a free port, for as long as the block runs."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        raise Unavailable("aiosmtpd is not installed (a dev dependency: `make bench` installs them)") from None
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    chatter = logging.getLogger("mail.log")  # aiosmtpd logs every SMTP command at INFO
    level = chatter.level
    chatter.setLevel(logging.WARNING)
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()
        chatter.setLevel(level)


def measure_sending(count: int = MESSAGES) -> dict:
    """Prepare ``count`` due notices, time ``send_due_followups`` sending them, clean up; the figures."""
    if "send_due_followups" not in get_commands():
        raise Unavailable("there is no send_due_followups command yet (followups/management/commands)")
    aside: list[int] = []
    try:
        aside = set_aside()
        prepared = prepare(count)
        if not prepared:
            raise Unavailable("no open card closure of a customer with an e-mail address and consent")
        with smtp_server() as (port, mailbox):
            mail = {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": port,
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": False,
                "EMAIL_HOST_USER": "",
                "EMAIL_HOST_PASSWORD": "",
                "EMAIL_TIMEOUT": 30,
            }
            out = io.StringIO()
            with override_settings(**mail):
                began, cpu = time.perf_counter(), time.process_time()
                call_command("send_due_followups", stdout=out, stderr=out)
                seconds = time.perf_counter() - began
                cpu_seconds = time.process_time() - cpu
            received = mailbox.messages
        states, error = outcome()
    finally:
        clean_up(aside)
    figures = {
        "seconds": round(seconds, 2),
        "prepared": prepared,
        "received": received,
        "per_s": round(received / seconds, 1) if seconds else None,
        "cpu_seconds": round(cpu_seconds, 1),
        "states": states,
        "set_aside": len(aside),
        "output": out.getvalue().strip()[-300:],
    }
    if states.get("sent", 0) < prepared or received < prepared:
        figures["reason"] = (
            f"only {states.get('sent', 0):,} of {prepared:,} notices sent ({received:,} received by the server)"
            + (f"; e.g. {error}" if error else "")
        )
    return figures


def set_aside() -> list[int]:
    """Move the data set's own due pending messages a century ahead, so only the benchmark's are due."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE followups_followup SET due_at = due_at + interval '{ASIDE}'
                WHERE state = 'pending' AND due_at <= now() + interval '1 hour'
                  AND kind IN ('notice', 'survey', 'winback') AND note <> %s
                RETURNING id""",
            [MARK],
        )
        return [row[0] for row in cursor.fetchall()]


def prepare(count: int) -> int:
    """``count`` pending e-mail notices, due a minute ago, on open card closures of customers who have
    an e-mail address and e-mail consent (one INSERT ... SELECT)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO followups_followup (kind, channel, customer_id, closure_id, rule_id, language, due_at,
                       state, attempts, last_error, sent_at, address, assigned_to_id, outcome, done_at, done_by_id,
                       note, won_back, key, created_at)
               SELECT 'notice', 'email', k.customer_id, k.id, NULL, c.language, now() - interval '1 minute',
                      'pending', 0, '', NULL, '', NULL, '', NULL, NULL, %s, false, gen_random_uuid(), now()
               FROM closures_closure k
               JOIN customers_customer c ON c.id = k.customer_id
               JOIN customers_contactconsent m ON m.customer_id = c.id AND m.channel = 'email'
               WHERE k.action = 'close' AND k.reverted_at IS NULL AND NOT k.customer_erased
                 AND c.status = 'closed' AND c.email <> '' AND m.marketing AND NOT m.do_not_contact
               ORDER BY k.id DESC
               LIMIT %s""",
            [MARK, count],
        )
        return cursor.rowcount


def outcome() -> tuple[dict, str]:
    """How the benchmark's notices ended (by state), and one error's words if any failed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, count(*) FROM followups_followup WHERE note = %s GROUP BY 1", [MARK])
        states = dict(cursor.fetchall())
        cursor.execute("SELECT last_error FROM followups_followup WHERE note = %s AND last_error <> '' LIMIT 1", [MARK])
        row = cursor.fetchone()
    return states, (row[0][:200] if row else "")


def clean_up(aside: list[int]) -> None:
    """Delete the benchmark's notices, put the set-aside messages back, vacuum the table."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM followups_followup WHERE note = %s", [MARK])
        if aside:
            cursor.execute(
                f"UPDATE followups_followup SET due_at = due_at - interval '{ASIDE}' WHERE id = ANY(%s)", [aside]
            )
        if not connection.in_atomic_block:  # (a test's transaction cannot vacuum)
            cursor.execute("VACUUM (ANALYZE) followups_followup")
