"""Send the webhooks that are due, without Celery: once, or with --loop until stopped."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from api import delivery
from crm import outbox

PRUNE_EVERY = 3600  # seconds


class Command(BaseCommand):
    help = "Send the webhooks that are due (api/delivery.py); --loop keeps sending, e.g. under systemd."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep sending until stopped.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds to wait when nothing is due.")
        parser.add_argument("--limit", type=int, default=None, help="Try at most this many deliveries per pass.")

    def handle(self, *args, loop=False, interval=1.0, limit=None, **options):
        pruned_at = 0.0
        while True:
            outbox.dispatch(["webhooks"])
            sent = delivery.send_due(limit=limit)
            if time.monotonic() - pruned_at > PRUNE_EVERY:
                delivery.prune()
                pruned_at = time.monotonic()
            if sent.attempted or not loop:
                self.stdout.write(
                    f"{sent.attempted} tried, {sent.delivered} delivered, {sent.failed} failed"
                    + (f", endpoints disabled: {sent.disabled}" if sent.disabled else "")
                )
            if not loop:
                return
            if not sent.attempted:
                close_old_connections()
                time.sleep(interval)
