"""The benchmark's output: bench/results.json, the table on stdout and, with ``--docs``, the
generated sections of docs/benchmarks.md."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from customers.models import Customer

from . import lib
from .database import connection_count
from .lib import fmt

RESULTS = Path(settings.BASE_DIR) / "bench" / "results.json"
DOCS = Path(settings.BASE_DIR) / "docs" / "benchmarks.md"
META = ("machine_", "postgresql_", "database_", "date", "customers", "closures", "tickets", "runs", "warmup")


def results(bench) -> dict:
    """The flat JSON object of bench/results.json: the machine, the data set, then every figure."""
    out = lib.machine() | {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "customers": Customer.objects.count(),
        "closures": connection_count("closures_closure"),
        "tickets": connection_count("service_ticket"),
        "ticket_steps": connection_count("service_step"),
        "runs": bench.runs,
        "warmup": bench.warmup,
        "machine_load_1m_at_start": bench.load_at_start,
        "machine_load_1m_at_end": round(os.getloadavg()[0], 2),
    }
    for m in bench.measures:
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
    return out | bench.extra


def write(bench) -> None:
    """Write the results (a partial run, ``--only``, updates its own figures), print the table, and
    with ``--docs`` rewrite the generated sections of docs/benchmarks.md."""
    figures = results(bench)
    if bench.only and bench.output.exists():  # a partial run updates the figures it measured
        previous = json.loads(bench.output.read_text(encoding="utf-8"))
        measured = {k: v for k, v in figures.items() if k not in previous or not k.startswith(META)}
        measured["last_partial_run"] = f"{figures['date']} (--only {','.join(bench.only)})"
        figures = previous | measured
    bench.output.parent.mkdir(parents=True, exist_ok=True)
    bench.output.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    text_table = table(bench.measures)
    bench.say("\n" + text_table + f"\n\nWrote {bench.output}.")
    scans = [(m.key, m.scans) for m in bench.measures if m.scans]
    for key, tables in scans:
        bench.say(f"SEQUENTIAL SCAN in {key}: {', '.join(tables)} (see --explain output)")
    if bench.want_explain:
        bench.say("\n" + plans(bench.measures))
    if bench.want_docs and bench.only:
        bench.say("Not updating docs/benchmarks.md from a partial run (--only); run all figures with --docs.")
    elif bench.want_docs:
        text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
        facts = lib.machine()
        header = (
            f"Measured {figures['date'][:10]} on {facts['machine_nproc']} CPUs ({facts['machine_cpu']}), "
            f"{facts['machine_mem_gb']} GB RAM, PostgreSQL {facts['postgresql_version']} "
            f"(shared_buffers {facts['postgresql_shared_buffers']}, locale {facts['database_locale']}); "
            f"{figures['customers']:,} customers, {figures['closures']:,} closures, "
            f"{figures['tickets']:,} tickets with {figures['ticket_steps']:,} steps; "
            f"{bench.runs} timed runs after {bench.warmup} warm-up runs per figure; load average "
            f"{figures['machine_load_1m_at_start']} at the start, {figures['machine_load_1m_at_end']} at the end "
            "(the machine is shared: a load above its CPU count inflates every figure).\n\n"
        )
        text = lib.replace_section(text, "results", header + text_table)
        if bench.want_explain:
            text = lib.replace_section(text, "explain", plans(bench.measures))
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text(text, encoding="utf-8")
        bench.say(f"Updated {DOCS}.")


def table(measures: list[lib.Measure]) -> str:
    rows = [
        "| Figure | p50 | p95 / value | Target | | App CPU p50 | Queries | Notes |",
        "|---|---:|---:|---:|---|---:|---:|---|",
    ]
    for m in measures:
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


def plans(measures: list[lib.Measure]) -> str:
    parts = []
    for m in measures:
        if not m.plans:
            continue
        parts.append(f"#### {m.label} (`{m.key}`)\n")
        for sql, plan, scanned in m.plans:
            flag = f" **Sequential scan of {', '.join(scanned)}.**" if scanned else ""
            parts.append(f"```sql\n{sql}\n```\n{flag}\n```\n{plan}\n```\n")
    return "\n".join(parts) or "(no plans captured)"
