"""`manage.py import_purchases FILE [--create-missing-cards] [--database ALIAS]`: a purchase history
file (.xlsx or .csv) through the purchase import (customers.imports.purchases), its report printed."""

from django.core.management.base import BaseCommand, CommandError

from customers.imports.purchases import import_purchases


class Command(BaseCommand):
    help = (
        "Import a purchase history (.xlsx or .csv; columns customer_no, purchased_on, amount, and optionally "
        "product and quantity, in English or Chinese). Every row is checked first; a file with any problem "
        "writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .xlsx or .csv file.")
        parser.add_argument(
            "--create-missing-cards",
            action="store_true",
            help="Create a card (named by its number) for each customer number no card has.",
        )
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, file, create_missing_cards, database, **options):
        try:
            report = import_purchases(file, by=None, create_missing_cards=create_missing_cards, using=database)
        except OSError as error:
            raise CommandError(str(error)) from None
        for message in report.file_errors:
            self.stderr.write(message)
        for problem in report.shown_problems:
            self.stderr.write(str(problem))
        if report.hidden_problems:
            self.stderr.write(f"... and {report.hidden_problems:,} more problems.")
        if not report.written:
            raise CommandError(f"{report.file_name}: nothing was written ({report.problem_count:,} problems).")
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.file_name}: {report.rows:,} rows, {report.purchases:,} purchases on {report.cards:,} cards "
                f"({report.new_cards:,} new cards)."
            )
        )
