"""`manage.py bench`: how fast the app answers at scale, measured the same way every time.

`make bench` runs it against PostgreSQL (DATABASE_URL), on bench.settings (production's
settings do not install the bench app, so they have no such command). It creates and migrates
the database if needed, loads 1,000,000 customers and 250,000 closures once (``seed_scale``, in a child
process), then measures server-side response times: each request goes through Django's test
client in this process (the whole middleware stack, session auth, templates, DEBUG off; no
network), logged in as an Admin. After a warm-up, every figure is timed ``--runs`` times and
reported as p50 and p95. Exports and the import run in child processes so that their peak
memory (VmHWM) is theirs alone.

Output: a table on stdout and bench/results.json, a flat JSON object (``*_p50_ms``,
``*_p95_ms``, ``*_s``, ``*_mb``); a figure that cannot be measured yet (a view still
answering 501, a missing operation) is null with a ``*_reason``, never a made-up number.
``--explain`` adds EXPLAIN (ANALYZE, BUFFERS) of every query the measured views run on the
big tables and flags sequential scans; ``--docs`` writes the results and plans into
docs/benchmarks.md. ``--locust-setup`` prepares sessions and data for bench/locustfile.py.

A benchmark, not a test: nothing here asserts, and nothing runs it in the test suite.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench import report
from bench.database import ensure_database, ensure_static, seed
from bench.files import run_child
from bench.locust import locust_setup
from bench.measure import Bench
from bench.report import RESULTS
from bench.scale.marker import read_marker


class Command(BaseCommand):
    help = "Benchmark search, card, closure, dashboard, exports and import at scale on PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=60, help="Timed requests per figure (default 60).")
        parser.add_argument("--warmup", type=int, default=5, help="Untimed requests first (default 5).")
        parser.add_argument(
            "--customers",
            type=int,
            default=1_000_000,
            help="Cards seed_scale loads (default 1,000,000; fewer make a smoke run, not comparable figures).",
        )
        parser.add_argument("--closures", type=int, default=250_000, help="Closures it loads (default 250,000).")
        parser.add_argument("--no-seed", action="store_true", help="Use the database as it is.")
        parser.add_argument("--only", default="", help="Comma-separated key fragments: measure only these.")
        parser.add_argument("--skip-files", action="store_true", help="Skip the exports and the import.")
        parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the views' queries.")
        parser.add_argument("--docs", action="store_true", help="Write results and plans into docs/benchmarks.md.")
        parser.add_argument("--output", default=str(RESULTS))
        parser.add_argument("--locust-setup", metavar="PATH", help="Write sessions and data for the load test.")
        parser.add_argument("--users", type=int, default=64, help="Sessions for --locust-setup (default 64).")
        children = ["export-xlsx", "export-csv", "import", "score-full", "score-changed"]
        parser.add_argument("--child", choices=children, help=None)

    def handle(self, *args, **options):
        if options["child"]:
            self.stdout.write(json.dumps(run_child(options["child"])))
            return
        if connection.vendor != "postgresql" and "postgres" not in settings.DATABASES["default"]["ENGINE"]:
            raise CommandError(
                "The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench "
                "(`make bench` does)."
            )
        if settings.DEBUG:
            raise CommandError("Run the benchmark with DEBUG off (DEBUG=0): DEBUG logs every query and slows pages.")
        ensure_database(self.stdout)
        ensure_static()
        if not options["no_seed"]:
            seed(self.stdout, options["customers"], options["closures"])
        if read_marker() is None:
            raise CommandError(
                "This database was not loaded by seed_scale. The benchmark closes cards and imports customers, "
                "so it only runs on a dedicated seed_scale database (e.g. DATABASE_URL=.../crm_bench)."
            )
        if options["locust_setup"]:
            locust_setup(Path(options["locust_setup"]), options["users"], self.stdout)
            return
        bench = Bench(self.stdout, options)
        bench.run()
        report.write(bench)
