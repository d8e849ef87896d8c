"""Send the follow-ups that are due (for cron, or when no Celery broker runs ``make beat``)."""

from django.core.management.base import BaseCommand

from crm import outbox
from followups import sending


class Command(BaseCommand):
    help = (
        "Hand new closure events to the follow-up planner, then send the closure notices, exit surveys "
        "and win-back offers that are due (run it every minute from cron when there is no Celery beat)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Send at most this many follow-ups.")

    def handle(self, *args, limit=None, **options):
        if limit is not None and limit < 1:
            self.stderr.write("--limit must be 1 or more.")
            return
        events = outbox.dispatch(["followups"])  # the planner's count; then every other consumer's events
        outbox.dispatch()
        tally = sending.send_due(limit=limit)
        self.stdout.write(f"Events handed to the planner: {events}.")
        self.stdout.write(tally.words())
