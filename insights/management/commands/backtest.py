"""`manage.py backtest --cutoff YYYY-MM-DD [--window DAYS] [--churn closed|quiet|either] [--json]`:
score everyone as of a past day and measure the scores against what happened after it (insights/backtest.py)."""

import json
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from insights.backtest import CHURN_KINDS, backtest, format_table


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--cutoff {text!r} is not a date; use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Backtest the churn scores: score the customers as of --cutoff from their history before it (nothing is "
        "written), then measure against what happened in the following --window days (churned = closed, no "
        "purchase, or either): AUC, precision, recall and lift of the top 10 %, calibration by decile, for the "
        "risk score, the recency baseline and BG/NBD alone. Only customers with a purchase by the cut-off count."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cutoff", required=True, help="The day to score as of (YYYY-MM-DD).")
        parser.add_argument("--window", type=int, default=180, help="Days after the cut-off to watch (default 180).")
        parser.add_argument("--churn", choices=CHURN_KINDS, default="either", help="What counts as churn.")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, cutoff, window, churn, json: bool, database, **options):
        if window < 1:
            raise CommandError("--window must be 1 day or more.")
        began = time.monotonic()
        result = backtest(_day(cutoff), window=window, churn=churn, using=database)
        result["seconds"] = round(time.monotonic() - began, 1)
        self.stdout.write(_json(result) if json else format_table(result) + f"\n\nTook {result['seconds']} s.")


def _json(result: dict) -> str:
    return json.dumps(result, indent=2)
