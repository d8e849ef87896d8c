"""`manage.py rebuild_service_summary`: recount the service dashboard's summary from the tickets."""

from django.core.management.base import BaseCommand

from service import churn_summary, tally


class Command(BaseCommand):
    help = (
        "Recount the service dashboard's summary (tickets by day, SLA results, response and resolution "
        "times) and the churn-after-service summary from the ticket table. For recovery, after changing "
        "TIME_ZONE or the working calendar, or after tickets were loaded outside the ticket operations. "
        "On PostgreSQL, ticket operations "
        "meanwhile wait for it to finish."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, database, **options):
        written = tally.rebuild(using=database)
        cards = churn_summary.rebuild(using=database)
        self.stdout.write(
            self.style.SUCCESS(
                f"Service summary rebuilt: {written['rows']:,} count rows, {written['time_rows']:,} time rows "
                f"by day; {written['month_rows']:,} and {written['month_time_rows']:,} by month; "
                f"by card owner: {written['owner_rows']:,} count rows by day, "
                f"{written['owner_month_rows']:,} by month; "
                f"churn after service: {cards:,} card rows."
            )
        )
