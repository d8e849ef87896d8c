"""`manage.py bench`: how fast the app answers at scale, measured the same way every time.

`make bench` runs it against PostgreSQL (DATABASE_URL). It creates and migrates the database
if needed, loads 1,000,000 customers and 250,000 closures once (``seed_scale``, in a child
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
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from closures.models import Action, Category, ClosureReason
from customers.models import Customer

from . import _bench_lib as lib
from ._bench_files import DATA_DIR, IMPORT_ROWS, child, run_child, write_import_file
from ._bench_lib import Unavailable, admin_user, client_for, stub
from .seed_scale import read_marker

RESULTS = Path(settings.BASE_DIR) / "bench" / "results.json"
DOCS = Path(settings.BASE_DIR) / "docs" / "benchmarks.md"
META = ("machine_", "postgresql_", "database_", "date", "customers", "closures", "runs", "warmup")
BUDGET_S = 45  # seconds of timed runs per figure at most (slow pages get fewer runs, never under 10)


class Command(BaseCommand):
    help = "Benchmark search, card, closure, dashboard, exports and import at scale on PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=60, help="Timed requests per figure (default 60).")
        parser.add_argument("--warmup", type=int, default=5, help="Untimed requests first (default 5).")
        parser.add_argument("--customers", type=int, default=1_000_000)
        parser.add_argument("--closures", type=int, default=250_000)
        parser.add_argument("--no-seed", action="store_true", help="Use the database as it is.")
        parser.add_argument("--only", default="", help="Comma-separated key fragments: measure only these.")
        parser.add_argument("--skip-files", action="store_true", help="Skip the exports and the import.")
        parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the views' queries.")
        parser.add_argument("--docs", action="store_true", help="Write results and plans into docs/benchmarks.md.")
        parser.add_argument("--output", default=str(RESULTS))
        parser.add_argument("--locust-setup", metavar="PATH", help="Write sessions and data for the load test.")
        parser.add_argument("--users", type=int, default=64, help="Sessions for --locust-setup (default 64).")
        parser.add_argument("--child", choices=["export-xlsx", "export-csv", "import"], help=None)

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
        bench.report()


# --- the database ---------------------------------------------------------------------------------------
def ensure_database(stdout) -> None:
    """Create the database (UTF-8, a locale pg_trgm understands) and migrate it when needed."""
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        import psycopg
        from psycopg import sql

        params = connection.get_connection_params()
        name = params.pop("dbname")
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, dbname="postgres", autocommit=True) as admin:
            for locale in ("C.UTF-8", "en_US.UTF-8", None):
                create = "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'"
                if locale:
                    create += f" LC_COLLATE '{locale}' LC_CTYPE '{locale}'"
                try:
                    admin.execute(sql.SQL(create).format(sql.Identifier(name)))
                    stdout.write(f"Created database {name} ({locale or 'server default locale'}).")
                    break
                except psycopg.errors.InvalidParameterValue:
                    continue
        connection.close()
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        stdout.write("Migrating the benchmark database ...")
        call_command("migrate", interactive=False, verbosity=0)


def ensure_static() -> None:
    """Pages render {% static %} through the hashed manifest when DEBUG is off, as in production."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if manifest and not staticfiles_storage.exists(manifest):
        call_command("collectstatic", interactive=False, verbosity=0)


def seed(stdout, customers: int, closures: int) -> None:
    """seed_scale in a child process (it lowers its own CPU priority; the measurements must not inherit it)."""
    command = [sys.executable, "manage.py", "seed_scale", "--customers", str(customers), "--closures", str(closures)]
    done = subprocess.run(command, cwd=settings.BASE_DIR, check=False)  # noqa: S603 (our own command)
    if done.returncode:
        raise CommandError("seed_scale failed; see above.")
    stdout.flush()


def sample(sql: str, params=(), limit: int = 2000) -> list[tuple]:
    """Rows from a random sample of pages (TABLESAMPLE), so picks are spread over the table."""
    with connection.cursor() as cursor:
        cursor.execute(sql + f" LIMIT {int(limit)}", params)
        rows = cursor.fetchall()
    random.Random(len(rows)).shuffle(rows)
    return rows


def fresh_cards(count: int) -> list[int]:
    """Active cards that can be closed at once: no balance or points to settle, no pending request."""
    rows = sample(
        """SELECT c.id FROM customers_customer c TABLESAMPLE SYSTEM (2)
           WHERE c.status = 'active' AND c.balance = 0 AND c.points = 0 AND c.segment <> 'key'
             AND NOT EXISTS (SELECT 1 FROM closures_closurerequest r
                             WHERE r.customer_id = c.id AND r.state = 'pending')""",
        limit=count * 2,
    )
    return [row[0] for row in rows][:count]


def name_terms() -> dict[str, str]:
    """A frequent and a rare Chinese search term of 1, 2 and 3 characters, from the data itself."""
    terms = {}
    with connection.cursor() as cursor:
        for size in (1, 2):
            cursor.execute(
                """SELECT gram, count(*) FROM customers_namegram
                   WHERE char_length(gram) = %s AND gram ~ %s GROUP BY gram ORDER BY 2 DESC, 1""",
                [size, "^[\u4e00-\u9fff]+$"],
            )
            rows = cursor.fetchall()
            if not rows:
                raise Unavailable("the name-gram table is empty")
            terms[f"{size}char_frequent"] = rows[0][0]
            terms[f"{size}char_rare"] = next((g for g, n in reversed(rows) if n >= 1), rows[-1][0])
        cursor.execute(
            """SELECT lower(name), count(*) FROM customers_customer
               WHERE char_length(name) = 3 AND name ~ %s AND status = 'active' GROUP BY 1 ORDER BY 2 DESC, 1""",
            ["^[\u4e00-\u9fff]{3}$"],
        )
        rows = cursor.fetchall()
    if not rows:
        raise Unavailable("no three-character Chinese names")
    terms["3char_frequent"] = rows[0][0]
    terms["3char_rare"] = rows[-1][0]
    return terms


# --- measuring --------------------------------------------------------------------------------------
TARGETS = {
    "search_phone": 25,
    "search_last4": 25,
    "search_customer_no": 25,
    "search_name_3char": 40,
    "search_name_2char": 40,
    "search_name_1char": 40,
    "search_page": 40,
    "card": 40,
    "close_confirm": 50,
    "dashboard_12m": 150,
    "dashboard_all": 150,
    "closure_list": 50,
}


class Bench:
    def __init__(self, stdout, options):
        self.out = stdout
        self.runs = options["runs"]
        self.warmup = options["warmup"]
        self.only = [part.strip() for part in options["only"].split(",") if part.strip()]
        self.skip_files = options["skip_files"]
        self.want_explain = options["explain"]
        self.want_docs = options["docs"]
        self.output = Path(options["output"])
        self.measures: list[lib.Measure] = []
        self.extra: dict = {}

    def wanted(self, key: str) -> bool:
        return not self.only or any(part in key for part in self.only)

    def say(self, message: str) -> None:
        self.out.write(message)
        self.out.flush()

    # --- the figures -----------------------------------------------------------------------------
    def run(self) -> None:
        self.load_at_start = round(os.getloadavg()[0], 2)
        self.user = admin_user()
        self.client = client_for(self.user)
        self.started = datetime.now(UTC)
        count = self.runs + self.warmup + 2
        people = sample(
            """SELECT id, customer_no, phone FROM customers_customer TABLESAMPLE SYSTEM (1)
               WHERE status = 'active' AND phone LIKE '+86%%'""",
            limit=max(count, 200),
        )
        if not people:
            raise CommandError("No active customers with phones: is the data set loaded?")
        pick = lambda i, column: people[i % len(people)][column]  # noqa: E731
        with override_settings(ROOT_URLCONF="analytics.management.commands._bench_reference"):
            reference = reverse("bench_reference")
            measure = self.timed(
                "reference_page",
                "Reference: session auth, 1 indexed lookup, 25-row table",
                lambda i: self.get(reference, **{"from": pick(i, 0)}),
            )
        if measure:
            measure.note = "the issue's machine: 12 ms p50, 17 ms p95 (see _bench_reference.py)"
        search = reverse("customers:search")
        self.timed("search_phone", "Search by phone (11 digits)", lambda i: self.get(search, q=pick(i, 2)[3:]))
        self.timed("search_last4", "Search by last 4 digits", lambda i: self.get(search, q=pick(i, 2)[-4:]))
        self.timed("search_customer_no", "Search by customer number", lambda i: self.get(search, q=pick(i, 1)))
        if any(self.wanted(f"search_name_{n}char") for n in (1, 2, 3)):
            terms = name_terms()
            self.extra.update({f"search_name_{k}_term": v for k, v in terms.items()})
            for size in (3, 2, 1):
                for kind in ("frequent", "rare"):
                    term = terms[f"{size}char_{kind}"]
                    self.timed(
                        f"search_name_{size}char_{kind}",
                        f"Search by {size}-char name, {kind} ({term})",
                        lambda i, term=term: self.get(search, q=term),
                        target=TARGETS[f"search_name_{size}char"],
                    )
        filters = {"segment": "key", "city": "上海", "o": "-total"}
        self.timed(
            "search_page", "Filtered search page (key accounts, 上海, by total)", lambda i: self.get(search, **filters)
        )
        self.timed("card", "Customer card", lambda i: self.get(reverse("customers:card", args=[pick(i, 0)])))
        if self.wanted("close_confirm"):
            self.close_confirm(count)
        dashboard = reverse("analytics:dashboard")
        self.timed("dashboard_12m", "Dashboard, last 12 months", lambda i: self.get(dashboard, period="12m"))
        self.timed("dashboard_all", "Dashboard, all time", lambda i: self.get(dashboard, period="all"))
        listing = reverse("analytics:closure_list")
        self.timed("closure_list", "Closure list (first page)", lambda i: self.get(listing))
        self.worse_of_names()
        if not self.skip_files:
            self.files()

    def get(self, path: str, **params):
        return lambda: self.client.get(path, params, secure=True)

    def timed(self, key: str, label: str, make, *, target=None, expect=(200,)) -> lib.Measure | None:
        """Warm up, then time ``runs`` calls of ``make(i)()``; ``make`` does untimed preparation."""
        if not self.wanted(key):
            return None
        measure = lib.Measure(key, label, target if target is not None else TARGETS.get(key))
        self.measures.append(measure)
        try:
            call = make(0)
            began = time.perf_counter()
            response = call()
            first = time.perf_counter() - began
            problem = trouble(response, expect)
            if problem:
                raise Unavailable(problem)
            # A slow page gets fewer runs (at least 10), so one figure never takes more than about a minute.
            runs = min(self.runs, max(10, int(BUDGET_S / max(first, 0.001))))
            if runs < self.runs:
                measure.note = f"{runs} runs (slow page)"
            for i in range(1, self.warmup + 1):
                make(i)()
            for i in range(self.warmup + 1, self.warmup + 1 + runs):
                call = make(i)
                began, cpu = time.perf_counter(), time.process_time()
                response = call()
                elapsed = (time.perf_counter() - began) * 1000
                measure.cpu.append((time.process_time() - cpu) * 1000)
                problem = trouble(response, expect)
                if problem:
                    raise Unavailable(f"run {i}: {problem}")
                measure.samples.append(elapsed)
            call = make(self.warmup + runs + 1)
            with CaptureQueriesContext(connection) as captured:
                call()
            measure.queries = len(captured.captured_queries)
            if self.want_explain:
                self.explain(measure, captured.captured_queries)
        except Unavailable as exc:
            measure.samples, measure.cpu = [], []
            measure.reason = str(exc)
        cpu = fmt(lib.percentile(measure.cpu, 50)) if measure.cpu else ""
        self.say(f"  {label:<58} p50 {fmt(measure.p50):>8}  p95 {fmt(measure.p95):>8}  cpu {cpu:>6}  {measure.reason}")
        return measure

    def explain(self, measure: lib.Measure, queries: list[dict]) -> None:
        for query in queries:
            sql = query["sql"]
            head = sql.lstrip().upper()
            if head.startswith(("SELECT", "WITH")) and lib.touches_big_table(sql):
                plan, scanned = lib.explain(sql)
                measure.plans.append((sql, plan, scanned))

    def close_confirm(self, count: int) -> None:
        """The confirm POST of the real flow: the start page, "Continue" (untimed), then "Confirm" (timed)."""
        reason = (
            ClosureReason.objects.active()
            .for_action(Action.CLOSE)
            .filter(category=Category.PRICE, notes_required=False)
            .first()
        )
        cards = iter(fresh_cards(count + 5))

        def make(i):
            try:
                pk = next(cards)
            except StopIteration:
                raise Unavailable("ran out of fresh active cards to close") from None
            start = reverse("closures:start", kwargs={"pk": pk, "action": Action.CLOSE})
            page = self.client.get(start, secure=True)
            if page.status_code != 200:
                raise Unavailable(f"the closure start page answered HTTP {page.status_code}{stub(page)}")
            form = next((f for f in lib.read_forms(page.content.decode()) if "reason" in f["fields"]), None)
            if form is None or "reason" not in form["fields"]:
                raise Unavailable("the closure start page has no form with a reason")
            data = dict(form["fields"], reason=str(reason.pk) if reason else form["fields"]["reason"], notes="")
            preview = self.client.post(form["action"] or start, data, secure=True)
            confirm = next((f for f in lib.read_forms(preview.content.decode()) if "token" in f["fields"]), None)
            if preview.status_code != 200 or confirm is None:
                raise Unavailable(f"“Continue” gave no confirmation form (HTTP {preview.status_code})")
            url = confirm["action"] or reverse("closures:confirm", kwargs={"pk": pk, "action": Action.CLOSE})
            return lambda: self.client.post(url, confirm["fields"], secure=True)

        measure = self.timed("close_confirm", "Confirm closure (POST, through the preview token)", make, expect=(302,))
        if measure and measure.samples:
            closed = Customer.objects.filter(status=Customer.Status.CLOSED, closures__performed_at__gte=self.started)
            done = closed.distinct().count()
            measure.note = "; ".join(filter(None, [measure.note, f"{done} cards closed by this run"]))
            if done < len(measure.samples):
                measure.reason = f"only {done} of {len(measure.samples)} confirmations closed their card"
                measure.samples = []

    def worse_of_names(self) -> None:
        """The required name figures: the worse of the frequent and the rare term."""
        by_key = {m.key: m for m in self.measures}
        for size in (3, 2, 1):
            pair = [by_key.get(f"search_name_{size}char_{kind}") for kind in ("frequent", "rare")]
            if not all(pair):
                continue
            combined = lib.Measure(f"search_name_{size}char", f"Search by {size}-char name (worse of the two)",
                                   TARGETS[f"search_name_{size}char"])  # fmt: skip
            if all(m.samples for m in pair):
                worse = max(pair, key=lambda m: m.p95)
                combined.samples, combined.cpu = worse.samples, worse.cpu
                combined.queries = max(m.queries or 0 for m in pair)
            else:
                combined.reason = "; ".join(m.reason for m in pair if m.reason)
            self.measures.append(combined)

    # --- exports and import, each in a child process ------------------------------------------------------
    def files(self) -> None:
        if self.wanted("export"):
            # Warm-up, as for the pages: the export reads every closure and its card; the first read
            # after a load or a restart comes from disk and would measure the disk, not the export.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*), sum(length(c.name)) FROM closures_closure k "
                    "JOIN customers_customer c ON c.id = k.customer_id"
                )
        for fmt, label, target in (("xlsx", "Excel", 20), ("csv", "CSV", None)):
            if not self.wanted(f"export_{fmt}"):
                continue
            self.say(f"  Export of all closures to {label} (child process) ...")
            result = child(f"export-{fmt}")
            self.single(f"export_{fmt}_250k_s", f"Export closures to {label}", result, "seconds", target, "s")
            self.single(f"export_{fmt}_250k_peak_rss_mb", "  peak RSS of that process", result, "peak_rss_mb",
                        150 if fmt == "xlsx" else None, "MB")  # fmt: skip
            self.extra[f"export_{fmt}_250k_rows"] = result.get("rows")
            self.extra[f"export_{fmt}_250k_rows_per_s"] = result.get("rows_per_s")
            self.extra[f"export_{fmt}_250k_bytes"] = result.get("bytes")
            self.extra[f"export_{fmt}_250k_process_cpu_s"] = result.get("cpu_seconds")
        if self.wanted("import"):
            path = DATA_DIR / "import_100k.xlsx"
            if not path.exists():
                self.say(f"  Writing {path} ({IMPORT_ROWS:,} new customers) ...")
                write_import_file(path)
            self.say("  Import of 100,000 customers from .xlsx (child process) ...")
            result = child("import")
            self.single("import_100k_s", "Import 100,000 customers (.xlsx, confirmed)", result, "seconds", 60, "s")
            self.single("import_100k_preview_s", "  its preview (dry run)", result, "preview_seconds", None, "s")
            self.single("import_100k_peak_rss_mb", "  peak RSS of that process", result, "peak_rss_mb", None, "MB")
            self.extra["import_100k_process_cpu_s"] = result.get("cpu_seconds")

    def single(self, key, label, result, field, target, unit) -> None:
        reason = result.get("reason", "")[:300]
        measure = lib.Measure(key, label, target, unit=unit, value=result.get(field), reason=reason)
        measure.note = result.get("note", "") if field == "seconds" else ""
        self.measures.append(measure)
        self.say(f"  {label:<58} {fmt(measure.value):>8} {unit}  {measure.reason}")

    # --- output ---------------------------------------------------------------------------------------------
    def results(self) -> dict:
        out = lib.machine() | {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "customers": Customer.objects.count(),
            "closures": connection_count("closures_closure"),
            "runs": self.runs,
            "warmup": self.warmup,
            "machine_load_1m_at_start": self.load_at_start,
            "machine_load_1m_at_end": round(os.getloadavg()[0], 2),
        }
        for m in self.measures:
            if m.unit == "ms":
                out[f"{m.key}_p50_ms"] = m.p50
                out[f"{m.key}_p95_ms"] = m.p95
                if m.cpu:
                    out[f"{m.key}_cpu_p50_ms"] = lib.percentile(m.cpu, 50)
                if m.queries is not None:
                    out[f"{m.key}_queries"] = m.queries
                if m.scans:
                    out[f"{m.key}_seq_scans"] = ", ".join(m.scans)
            else:
                out[m.key] = m.value
            if m.reason:
                out[f"{m.key}_reason"] = m.reason
        return out | self.extra

    def report(self) -> None:
        results = self.results()
        if self.only and self.output.exists():  # a partial run updates the figures it measured
            previous = json.loads(self.output.read_text(encoding="utf-8"))
            measured = {k: v for k, v in results.items() if k not in previous or not k.startswith(META)}
            measured["last_partial_run"] = f"{results['date']} (--only {','.join(self.only)})"
            results = previous | measured
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        table = self.table()
        self.say("\n" + table + f"\n\nWrote {self.output}.")
        scans = [(m.key, m.scans) for m in self.measures if m.scans]
        for key, tables in scans:
            self.say(f"SEQUENTIAL SCAN in {key}: {', '.join(tables)} (see --explain output)")
        if self.want_explain:
            self.say("\n" + self.plans())
        if self.want_docs and self.only:
            self.say("Not updating docs/benchmarks.md from a partial run (--only); run all figures with --docs.")
        elif self.want_docs:
            text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
            facts = lib.machine()
            header = (
                f"Measured {results['date'][:10]} on {facts['machine_nproc']} CPUs ({facts['machine_cpu']}), "
                f"{facts['machine_mem_gb']} GB RAM, PostgreSQL {facts['postgresql_version']} "
                f"(shared_buffers {facts['postgresql_shared_buffers']}, locale {facts['database_locale']}); "
                f"{results['customers']:,} customers, {results['closures']:,} closures; "
                f"{self.runs} timed runs after {self.warmup} warm-up runs per figure; load average "
                f"{results['machine_load_1m_at_start']} at the start, {results['machine_load_1m_at_end']} at the end "
                "(the machine is shared: a load above its CPU count inflates every figure).\n\n"
            )
            text = lib.replace_section(text, "results", header + table)
            if self.want_explain:
                text = lib.replace_section(text, "explain", self.plans())
            DOCS.parent.mkdir(parents=True, exist_ok=True)
            DOCS.write_text(text, encoding="utf-8")
            self.say(f"Updated {DOCS}.")

    def table(self) -> str:
        rows = [
            "| Figure | p50 | p95 / value | Target | | App CPU p50 | Queries | Notes |",
            "|---|---:|---:|---:|---|---:|---:|---|",
        ]
        for m in self.measures:
            unit = "ms" if m.unit == "ms" else m.unit
            target = f"< {m.target:g} {unit}" if m.target is not None else ""
            notes = m.reason or m.note
            if m.scans:
                notes = (notes + "; " if notes else "") + "seq scan: " + ", ".join(m.scans)
            value = f"{fmt(m.headline)} {unit}" if m.headline is not None else ""
            queries = m.queries if m.queries is not None else ""
            p50 = fmt(m.p50) if m.samples else ""
            cpu = fmt(lib.percentile(m.cpu, 50)) if m.cpu else ""
            rows.append(f"| {m.label} | {p50} | {value} | {target} | {m.verdict} | {cpu} | {queries} | {notes} |")
        return "\n".join(rows)

    def plans(self) -> str:
        parts = []
        for m in self.measures:
            if not m.plans:
                continue
            parts.append(f"#### {m.label} (`{m.key}`)\n")
            for sql, plan, scanned in m.plans:
                flag = f" **Sequential scan of {', '.join(scanned)}.**" if scanned else ""
                parts.append(f"```sql\n{sql}\n```\n{flag}\n```\n{plan}\n```\n")
        return "\n".join(parts) or "(no plans captured)"


def trouble(response, expect) -> str:
    """Why a response is not what a working view gives, or ""."""
    if response.status_code in expect:
        return ""
    where = f" to {response.get('Location')}" if response.status_code in (301, 302) else ""
    return f"HTTP {response.status_code}{where}{stub(response)}"


def fmt(value) -> str:
    return "" if value is None else f"{value:,.1f}"


def connection_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


# --- the load test -------------------------------------------------------------------------------------------
def locust_setup(path: Path, users: int, stdout) -> None:
    """Sessions (one per virtual user, Managers and Admins) and search data for bench/locustfile.py.

    Sessions are created directly (like force_login) so that the test measures the mix, not
    password hashing at login; each virtual user gets its own fresh cards for the closure flow.
    """
    User = get_user_model()
    staff = list(User.objects.filter(username__startswith="scale_manager")) + [admin_user()]
    sessions = []
    for i in range(users):
        client = client_for(staff[i % len(staff)])
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    people = sample(
        """SELECT id, customer_no, phone FROM customers_customer TABLESAMPLE SYSTEM (1)
           WHERE status = 'active' AND phone LIKE '+86%%'""",
        limit=5000,
    )
    terms = name_terms()
    cards = fresh_cards(users * 40)
    data = {
        "sessions": sessions,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "phones": [p[2][3:] for p in people],
        "customer_nos": [p[1] for p in people],
        "card_ids": [p[0] for p in people],
        "names": list(terms.values()),
        "fresh_cards": [cards[i::users] for i in range(users)],
        "close_reason": ClosureReason.objects.active()
        .for_action(Action.CLOSE)
        .filter(category=Category.PRICE)
        .first()
        .pk,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    stdout.write(f"Wrote {users} sessions and search data to {path}.")
