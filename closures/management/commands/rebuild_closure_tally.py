"""`manage.py rebuild_closure_tally`: recount the dashboard's closure tallies from the closure table."""

from django.core.management.base import BaseCommand
from django.db import transaction

from closures import tally


class Command(BaseCommand):
    help = (
        "Recount the closure tallies behind the dashboard from the closure table. For recovery, "
        "after changing TIME_ZONE or after closures were written outside the app. On PostgreSQL, "
        "closures confirmed while it runs wait a moment for it to finish."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, database, **options):
        with transaction.atomic(using=database):
            written = tally.rebuild(using=database)
        self.stdout.write(
            self.style.SUCCESS(
                f"Closure tallies rebuilt: {written['main']:,} summary rows, {written['staff']:,} staff rows, "
                f"{written['cohorts']:,} cohort rows."
            )
        )
