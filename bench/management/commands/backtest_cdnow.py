"""`manage.py backtest_cdnow [--sample] [--cutoff 1997-09-30] [--window 273] [--churn quiet] [--json]`:
load the CDNOW purchase history through the product's imports (bench/cdnow.py) into the configured
database, then run the churn backtest (insights/backtest.py) on its customers. Development only:

    DJANGO_SETTINGS_MODULE=bench.settings DEBUG=1 DATABASE_URL=sqlite:////tmp/cdnow.sqlite3 \\
        .venv/bin/python manage.py migrate
    DJANGO_SETTINGS_MODULE=bench.settings DEBUG=1 DATABASE_URL=sqlite:////tmp/cdnow.sqlite3 \\
        .venv/bin/python manage.py backtest_cdnow

Use a database of its own: the customers are loaded once (a second run finds them and only scores).
"""

import json
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from bench import cdnow
from insights.backtest import CHURN_KINDS, backtest, format_table


class Command(BaseCommand):
    help = (
        "Load the CDNOW purchase history (lifetimes' data files) through the customer and purchase imports, "
        "then backtest the churn scores on it: the papers' 39 calibration weeks (cut-off 1997-09-30), "
        "churn = no purchase in the 39 holdout weeks (273 days)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sample", action="store_true", help="The 2,357-customer sample, not all 23,570.")
        parser.add_argument("--cutoff", default=cdnow.CALIBRATION_END.isoformat(), help="Default 1997-09-30.")
        parser.add_argument("--window", type=int, default=cdnow.HOLDOUT_DAYS, help="Days after (default 273).")
        parser.add_argument("--churn", choices=CHURN_KINDS, default="quiet", help="CDNOW has no closures: quiet.")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args, sample, cutoff, window, churn, json: bool, **options):
        try:
            day = date.fromisoformat(cutoff)
        except ValueError:
            raise CommandError(f"--cutoff {cutoff!r} is not a date; use YYYY-MM-DD.") from None
        began = time.monotonic()
        try:
            loaded = cdnow.load(sample=sample)
        except (LookupError, ValueError) as error:
            raise CommandError(str(error)) from None
        load_seconds = round(time.monotonic() - began, 1)
        began = time.monotonic()
        result = backtest(day, window=window, churn=churn, within=cdnow.cards())
        result["seconds"] = round(time.monotonic() - began, 1)
        result["data"] = {
            "file": cdnow.SAMPLE if sample else cdnow.MASTER,
            "customers": loaded.customers,
            "purchases": loaded.purchases,
            "loaded_now": loaded.loaded,
            "load_seconds": load_seconds,
        }
        if json:
            self.stdout.write(_dumps(result))
            return
        what = "loaded through the imports" if loaded.loaded else "already in the database"
        self.stdout.write(
            f"CDNOW ({result['data']['file']}): {loaded.customers:,} customers, {loaded.purchases:,} purchases, "
            f"{what} ({load_seconds} s).\n\n{format_table(result)}\n\nBacktest took {result['seconds']} s."
        )


def _dumps(result: dict) -> str:
    return json.dumps(result, indent=2)
