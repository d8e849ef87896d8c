"""`manage.py rebuild_followup_summary`: recompute the dashboard's per-closure follow-up summary and
the activity tally summed from it."""

from django.core.management.base import BaseCommand

from followups import summary
from followups.models import ActivityTally


class Command(BaseCommand):
    help = (
        "Recompute the per-closure summary of follow-ups and answers behind the dashboard's follow-up "
        "panels from the closures, follow-ups and answers, and the activity tally from the summary. For "
        "recovery, after changing TIME_ZONE or after rows were written outside the app."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, database, **options):
        written = summary.rebuild(using=database)
        tallied = ActivityTally.objects.using(database).count()
        message = f"Follow-up summary rebuilt: {written:,} rows, activity tally {tallied:,}."
        self.stdout.write(self.style.SUCCESS(message))
