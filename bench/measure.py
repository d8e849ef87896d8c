"""What ``manage.py bench`` times: each page through Django's test client in this process, the
confirm-closure POST through its real flow, and the exports and the import in child processes."""

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from closures.models import Action, Category, ClosureReason
from crm import outbox
from customers.models import Customer

from . import api, insights, lib, retention, scopes, sending, service, webhooks
from .database import fresh_cards, name_terms, sample
from .files import DATA_DIR, IMPORT_ROWS, child, write_import_file
from .lib import Unavailable, admin_user, client_for, fmt, stub, user_named

BUDGET_S = 45  # seconds of timed runs per figure at most (slow pages get fewer runs, never under 10)
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
    "dashboard_tag": 150,
    "dashboard_batch": 150,
    "dashboard_city": 150,
    "dashboard_cohorts_quarter": 150,
    # The follow-up panels, loaded by the dashboard right after it (the same view, ?part=followups).
    "dashboard_followups_12m": 150,
    "dashboard_followups_all": 150,
    "dashboard_improvements_12m": 150,
    "closure_list": 50,
    # The follow-ups queue is a list page: the closure list's target.
    "followups_mine_today": 50,
    "followups_mine_overdue": 50,
    "followups_team": 50,
    "followups_team_filtered": 50,
    # Tickets (issue 20): queues and the ticket page as list pages, the service dashboard as a dashboard.
    **service.TARGETS,
    # Churn warning (issue 21): the scoring runs, the at-risk list and actions, the dashboard.
    **insights.TARGETS,
    # Integration (issue 22): the API's reads, as the pages they match.
    **api.TARGETS,
    # Data scopes (issue 23): the search scoped to a Staff user's own cards, a Manager's team pages.
    **scopes.TARGETS,
}
# The alternative for the dashboard: at most 12 times the reference page (p95 over p95).
REFERENCE_FACTOR = 12
STAFF_USER, MANAGER_USER = "scale_staff01", "scale_manager01"  # the data set's busiest owner, a Manager


class Bench(service.ServiceFigures, insights.InsightsFigures, api.ApiFigures, scopes.ScopeFigures):
    """One run: the figures asked for (``--only``), each a :class:`lib.Measure`; bench.report writes them."""

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
        with override_settings(ROOT_URLCONF="bench.reference"):
            reference = reverse("bench_reference")
            measure = self.timed(
                "reference_page",
                "Reference: session auth, 1 indexed lookup, 25-row table",
                lambda i: self.get(reference, **{"from": pick(i, 0)}),
            )
        if measure:
            measure.note = "the issue's machine: 12 ms p50, 17 ms p95 (see bench/reference.py)"
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
        self.timed("dashboard_tag", "Dashboard, one tag", lambda i: self.get(dashboard, period="12m", tag=1))
        self.timed(
            "dashboard_batch", "Dashboard, one import batch", lambda i: self.get(dashboard, period="all", batch=1)
        )
        self.timed(
            "dashboard_city", "Dashboard, one city by part of its name", lambda i: self.get(dashboard, city="上")
        )
        self.timed(
            "dashboard_cohorts_quarter",
            "Dashboard, all time, cohorts by quarter",
            lambda i: self.get(dashboard, period="all", grain="quarter"),
        )
        self.timed(
            "dashboard_followups_12m",
            "Dashboard's follow-up panels, last 12 months",
            lambda i: self.get(dashboard, period="12m", part="followups"),
        )
        self.timed(
            "dashboard_followups_all",
            "Dashboard's follow-up panels, all time",
            lambda i: self.get(dashboard, period="all", part="followups"),
        )
        self.timed(
            "dashboard_improvements_12m",
            "Dashboard's improvement actions panel, last 12 months",
            lambda i: self.get(dashboard, period="12m", part="improvements"),
        )
        listing = reverse("analytics:closure_list")
        self.timed("closure_list", "Closure list (first page)", lambda i: self.get(listing))
        self.followup_queues()
        self.service_figures(STAFF_USER, MANAGER_USER)
        self.insights_figures(MANAGER_USER)
        self.api_figures(STAFF_USER, MANAGER_USER)
        self.scoped_figures(MANAGER_USER)
        self.worse_of_names()
        self.against_reference()
        if self.wanted("send_due_followups"):
            self.sending()
        if self.wanted("webhooks_10k"):
            self.webhooks()
        self.timed(
            "retention_rules",
            "Data retention page (every rule's preview)",
            lambda i: self.get(self.url("privacy:retention")),
        )
        if self.wanted("retention_erase_per_card"):
            self.retention()
        if not self.skip_files:
            self.files()

    def get(self, path: str, client=None, **params):
        client = client or self.client
        return lambda: client.get(path, params, secure=True)

    # --- after the closure ---------------------------------------------------------------------------
    def followup_queues(self) -> None:
        """The follow-ups queue as Staff (my callbacks due today, overdue) and as a Manager (the team's
        pending follow-ups; filtered: overdue callbacks for one closure reason). A URL name that does
        not exist yet is reported as not measured, not a crash."""
        if not any(self.wanted(key) for key in TARGETS if key.startswith("followups_")):
            return
        reason = ClosureReason.objects.for_action(Action.CLOSE).filter(category=Category.PRICE).first()
        team_filter = {"kind": "callback", "due": "overdue", "reason": reason.pk if reason else ""}
        pages = [
            ("followups_mine_today", f"Follow-ups: my callbacks due today ({STAFF_USER})", STAFF_USER,
             "followups:queue", {"tab": "today"}),
            ("followups_mine_overdue", f"Follow-ups: my overdue callbacks ({STAFF_USER})", STAFF_USER,
             "followups:queue", {"tab": "overdue"}),
            ("followups_team", "Follow-ups: team view, pending (Manager)", MANAGER_USER, "followups:team", {}),
            ("followups_team_filtered", "Follow-ups: team view, overdue price callbacks (Manager)", MANAGER_USER,
             "followups:team", team_filter),
        ]  # fmt: skip
        for key, label, username, name, params in pages:
            page = lambda i, u=username, n=name, p=params: self.get(self.url(n), self.client_of(u), **p)  # noqa: E731
            self.timed(key, label, page)

    def client_of(self, username: str):
        """A logged-in client for one of the data set's users (one per user, kept)."""
        clients = self.__dict__.setdefault("clients", {})
        if username not in clients:
            user = user_named(username)
            if user is None:
                raise Unavailable(f"no user {username}: reload the data set with seed_scale")
            clients[username] = client_for(user)
        return clients[username]

    @staticmethod
    def url(name: str) -> str:
        try:
            return reverse(name)
        except NoReverseMatch:
            raise Unavailable(f"no URL named {name} yet") from None

    def against_reference(self) -> None:
        """The dashboards' and the queues' p95 as a multiple of the reference page's (the issues' other
        yardsticks: a dashboard at most 12 times the reference page, a ticket queue or page 3 times)."""
        by_key = {m.key: m for m in self.measures}
        reference = by_key.get("reference_page")
        if not reference or not reference.samples:
            return
        factors = {"dashboard_": REFERENCE_FACTOR, "service_dashboard": REFERENCE_FACTOR,
                   "ticket_": service.TICKET_FACTOR}  # fmt: skip
        for m in self.measures:
            if m.samples and m.key.startswith(("dashboard_", "followups_", "ticket_", "service_dashboard")):
                ratio = round(m.p95 / reference.p95, 1)
                self.extra[f"{m.key}_x_reference"] = ratio
                factor = next((f for prefix, f in factors.items() if m.key.startswith(prefix)), None)
                if factor:
                    verdict = "within" if ratio <= factor else "OVER"
                    words = f"{ratio:g}× the reference page ({verdict} {factor}×)"
                else:
                    words = f"{ratio:g}× the reference page"
                m.note = "; ".join(filter(None, [m.note, words]))

    def sending(self) -> None:
        """send_due_followups: 10,000 due e-mails to a local SMTP server (bench/sending.py)."""
        label = f"send_due_followups: {sending.MESSAGES:,} e-mails to local SMTP"
        self.say(f"  {label} ...")
        try:
            result = sending.measure_sending()
        except Unavailable as exc:
            result = {"reason": str(exc)}
        self.single("send_due_followups_10k_s", label, result, "seconds", sending.TARGET_S, "s")
        measure = self.measures[-1]
        if "seconds" in result:
            fewer = result["prepared"] < sending.MESSAGES
            measure.note = (
                (f"only {result['prepared']:,} due notices could be prepared (a smaller data set); " if fewer else "")
                + f"{result['received']:,} received, {result['per_s']:,} messages/s; app + server CPU "
                f"{result['cpu_seconds']} s (aiosmtpd in this process)"
            )
        for field in ("prepared", "received", "per_s", "cpu_seconds", "set_aside"):
            if field in result:
                self.extra[f"send_due_followups_10k_{field}"] = result[field]

    def webhooks(self) -> None:
        """10,000 card events to 3 endpoints on a local receiver (bench/webhooks.py)."""
        label = f"Webhooks: {webhooks.EVENTS:,} events to {webhooks.ENDPOINTS} endpoints, local receiver"
        self.say(f"  {label} ...")
        try:
            result = webhooks.measure_webhooks()
        except Unavailable as exc:
            result = {"reason": str(exc)}
        self.single("webhooks_10k_s", label, result, "seconds", webhooks.TARGET_S, "s")
        if "seconds" in result:
            self.measures[-1].note = (
                f"fan-out {result['fan_out_s']} s, sending {result['sending_s']} s ({result['per_s']:,} deliveries/s); "
                f"{result['delivered']:,} of {result['deliveries']:,} delivered, {result['received']:,} received; "
                f"app + receiver CPU {result['cpu_seconds']} s"
            )
        for field in ("fan_out_s", "sending_s", "deliveries", "delivered", "received", "per_s", "cpu_seconds"):
            if field in result:
                self.extra[f"webhooks_10k_{field}"] = result[field]

    def retention(self) -> None:
        """One retention batch through the erasure, rolled back (bench/retention.py)."""
        label = "Retention run: one batch through the erasure, per card"
        try:
            result = retention.measure_erase_batch(self.user)
        except Unavailable as exc:
            result = {"reason": str(exc)}
        self.single("retention_erase_per_card_ms", label, result, "ms", retention.TARGET_MS_PER_CARD, "ms")
        if "ms" in result:
            self.measures[-1].note = f"{result['cards']} cards erased and rolled back, {result['skipped']} skipped"

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
        # Confirm writes the closure's outbox event in its transaction (closures.writes), so the
        # timed POST includes that insert. What consumes the event (the follow-up planner) runs
        # after the response in production (Celery, or a thread); bench.settings' JOBS_RUN_INLINE
        # would run it inside the request, so it is held back here and timed on its own below.
        planner = lib.Measure("close_confirm_planner", "  its follow-ups planned (outbox, after the response)", None)

        def dispatch() -> None:
            began = time.perf_counter()
            if outbox.dispatch():
                planner.samples.append((time.perf_counter() - began) * 1000)

        def make(i):
            dispatch()  # the previous confirmation's event, untimed
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

        with mock.patch.object(outbox, "enqueue_dispatch", lambda: None):
            measure = self.timed(
                "close_confirm", "Confirm closure (POST, through the preview token)", make, expect=(302,)
            )
        dispatch()
        if planner.samples:
            self.measures.append(planner)
            self.say(f"  {planner.label:<58} p50 {fmt(planner.p50):>8}  p95 {fmt(planner.p95):>8}")
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
        for kind, label, target in (("xlsx", "Excel", 20), ("csv", "CSV", None)):
            if not self.wanted(f"export_{kind}"):
                continue
            self.say(f"  Export of all closures to {label} (child process) ...")
            result = child(f"export-{kind}")
            self.single(f"export_{kind}_250k_s", f"Export closures to {label}", result, "seconds", target, "s")
            self.single(f"export_{kind}_250k_peak_rss_mb", "  peak RSS of that process", result, "peak_rss_mb",
                        150 if kind == "xlsx" else None, "MB")  # fmt: skip
            self.extra[f"export_{kind}_250k_rows"] = result.get("rows")
            self.extra[f"export_{kind}_250k_rows_per_s"] = result.get("rows_per_s")
            self.extra[f"export_{kind}_250k_bytes"] = result.get("bytes")
            self.extra[f"export_{kind}_250k_process_cpu_s"] = result.get("cpu_seconds")
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


def trouble(response, expect) -> str:
    """Why a response is not what a working view gives, or ""."""
    if response.status_code in expect:
        return ""
    where = f" to {response.get('Location')}" if response.status_code in (301, 302) else ""
    return f"HTTP {response.status_code}{where}{stub(response)}"
