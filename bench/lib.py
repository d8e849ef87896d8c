"""Helpers for ``manage.py bench``: percentiles, the database and machine facts the report
needs, HTML form reading for the closure flow, EXPLAIN ANALYZE of captured queries, and the
generated parts of docs/benchmarks.md.
"""

import os
import platform
import re
import statistics
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

# Tables big enough at scale that a sequential scan of them is a finding.
BIG_TABLES = (
    "customers_customer",
    "customers_namegram",
    "customers_purchase",
    "customers_interaction",
    "customers_customer_tags",
    "closures_closure",
    "closures_closurerequest",
    "crm_auditentry",
    "service_ticket",
    "service_step",
)
SCAN = re.compile(r"(Parallel )?Seq Scan on (\w+)")
SCAN_ROWS = 20_000
USER = "scale_admin01"  # an Admin loaded by seed_scale: may see, close and export everything


class Unavailable(Exception):
    """This figure cannot be measured yet; the message says why."""


def admin_user():
    try:
        return get_user_model().objects.get(username=USER)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No user {USER}: load the data set with `manage.py seed_scale` first.") from None


def user_named(username: str):
    """A user the data set loaded (seed_scale), or None."""
    return get_user_model().objects.filter(username=username).first()


def client_for(user) -> Client:
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)
    return client


def stub(response) -> str:
    return " (the view is still a 501 stub)" if response.status_code == 501 else ""


@dataclass
class Measure:
    """One figure of the report: timings in ms (or a single value), its target, or why it is missing."""

    key: str
    label: str
    target: float | None
    unit: str = "ms"
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU time per request (ms)
    value: float | None = None  # for single figures (seconds, MB)
    reason: str = ""  # why there is no number
    note: str = ""
    queries: int | None = None
    plans: list = field(default_factory=list)  # [(sql, plan text, scanned tables)]

    @property
    def p50(self) -> float | None:
        return percentile(self.samples, 50)

    @property
    def p95(self) -> float | None:
        return percentile(self.samples, 95)

    @property
    def headline(self) -> float | None:
        return self.p95 if self.samples else self.value

    @property
    def verdict(self) -> str:
        if self.headline is None:
            return "n/a"
        if self.target is None:
            return ""
        return "ok" if self.headline < self.target else "OVER"

    @property
    def scans(self) -> list[str]:
        return sorted({table for _sql, _plan, tables in self.plans for table in tables})


def percentile(samples: list[float], pct: int) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), rounded to 0.1 ms."""
    if not samples:
        return None
    if len(samples) == 1:
        return round(samples[0], 1)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return round(cuts[pct - 1], 1)


def fmt(value) -> str:
    """A figure for the table: one decimal, thousands grouped; nothing for a missing one."""
    return "" if value is None else f"{value:,.1f}"


def machine() -> dict:
    """What the numbers were measured on."""
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
        cursor.execute("SELECT current_setting('shared_buffers'), current_setting('work_mem')")
        shared_buffers, work_mem = cursor.fetchone()
        cursor.execute("SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()")
        collate, ctype = cursor.fetchone()
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "machine_nproc": os.cpu_count(),
        "machine_cpu": cpu,
        "machine_mem_gb": round(total_kb / 1024 / 1024, 1),
        "machine_python": platform.python_version(),
        "postgresql_version": server,
        "postgresql_shared_buffers": shared_buffers,
        "postgresql_work_mem": work_mem,
        "database_locale": f"{collate} / {ctype}",
    }


def peak_rss_mb() -> float | None:
    """This process's peak resident set size (VmHWM), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


class FormReader(HTMLParser):
    """The fields of the forms of a page, as a browser would submit them (first option of a select,
    checked boxes, hidden inputs), keyed by the form's action."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                               "fields": {}, "selects": {}})  # fmt: skip
        if not self.forms:
            return
        form = self.forms[-1]
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    form["fields"][name] = attrs.get("value") or "on"
            elif kind not in ("submit", "button", "image", "file"):
                form["fields"].setdefault(name, attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            form["selects"][name] = []
        elif tag == "option" and self._select:
            form["selects"][self._select].append((attrs.get("value") or "", "selected" in attrs))
        elif tag == "textarea" and name:
            self._textarea = name
            form["fields"][name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data


def read_forms(html: str) -> list[dict]:
    reader = FormReader()
    reader.feed(html)
    for form in reader.forms:
        for name, options in form["selects"].items():
            chosen = [value for value, selected in options if selected] or [value for value, _s in options if value]
            form["fields"].setdefault(name, chosen[0] if chosen else "")
    return reader.forms


def explain(sql: str) -> tuple[str, list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of one captured SELECT, and the big tables it scans sequentially."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return plan, scanned_tables(plan)


def scanned_tables(plan: str) -> list[str]:
    """Big tables read by a sequential scan of more than SCAN_ROWS rows (a scan stopped early by a
    LIMIT, as in a capped count, reads little and is not a finding)."""
    found = set()
    lines = plan.splitlines()
    for number, line in enumerate(lines):
        match = SCAN.search(line)
        if not match or match.group(2) not in BIG_TABLES:
            continue
        actual = re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)", line)
        rows, loops = (int(actual.group(1)), int(actual.group(2))) if actual else (0, 1)
        removed = 0
        for detail in lines[number + 1 : number + 8]:
            if "->" in detail:
                break
            gone = re.search(r"Rows Removed by Filter: (\d+)", detail)
            if gone:
                removed = int(gone.group(1))
        if (rows + removed) * loops > SCAN_ROWS:
            found.add(match.group(2))
    return sorted(found)


def touches_big_table(sql: str) -> bool:
    return any(f'"{table}"' in sql or f" {table} " in sql for table in BIG_TABLES)


def replace_section(text: str, name: str, body: str) -> str:
    """Put ``body`` between <!-- bench:NAME:start --> and <!-- bench:NAME:end --> (appended if absent)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        return before + block + rest.split(end, 1)[1]
    return text.rstrip() + "\n\n" + block + "\n"
