"""`manage.py score_customers [--changed]`: the scoring runs (insights/runs.py), for cron without a broker."""

import time

from django.core.management.base import BaseCommand

from insights.runs import score_changed, score_customers


class Command(BaseCommand):
    help = (
        "Score every active customer: RFM quintiles and segment, risk 0-100 with its reasons, probability "
        "alive and expected value over the next 12 months. Celery beat runs it nightly; cron can run this. "
        "With --changed, only the cards changed since the last run (beat: every 15 minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--changed", action="store_true", help="Only the cards changed since the last run.")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, changed, database, **options):
        began = time.monotonic()
        scored = (score_changed if changed else score_customers)(using=database)
        self.stdout.write(self.style.SUCCESS(f"Scored {scored:,} customers in {time.monotonic() - began:.1f} s."))
