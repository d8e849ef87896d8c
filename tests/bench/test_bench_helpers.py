"""The benchmark's helpers: percentiles, reading pages like a browser, spotting scans in plans."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from bench import lib
from bench.management.commands.bench import Command as Bench

FULL_SCAN = """Aggregate  (cost=1.00..2.00 rows=1 width=8) (actual time=200.0..200.0 rows=1 loops=1)
  ->  Seq Scan on closures_closure  (cost=0.00..9036.42 rows=233480) (actual time=0.03..150.0 rows=233098 loops=1)
        Filter: ((reverted_at IS NULL) AND (performed_at < '2026-11-23 16:00:00+00'::timestamp with time zone))
        Rows Removed by Filter: 16982
Execution Time: 200.1 ms"""

CAPPED_COUNT = """Aggregate  (cost=664.88..664.89 rows=1 width=8) (actual time=2.977..2.978 rows=1 loops=1)
  ->  Limit  (cost=0.00..539.87 rows=10001 width=8) (actual time=0.009..2.499 rows=10001 loops=1)
        ->  Seq Scan on closures_closure  (cost=0.00..9036.42) (actual time=0.008..1.875 rows=10001 loops=1)
              Filter: (reverted_at IS NULL)
Execution Time: 2.998 ms"""

SMALL_TABLE = (
    """Seq Scan on closures_reason  (cost=0.00..1.10 rows=10 width=17) (actual time=0.003..0.004 rows=900000 loops=1)"""
)


def test_percentiles_interpolate_between_ranks():
    samples = [float(n) for n in range(21)]  # 0..20
    assert lib.percentile(samples, 50) == 10.0
    assert lib.percentile(samples, 95) == 19.0
    assert lib.percentile([10.0, 20.0], 50) == 15.0
    assert lib.percentile([], 95) is None
    assert lib.percentile([12.34], 95) == 12.3


def test_a_full_sequential_scan_of_a_big_table_is_a_finding():
    assert lib.scanned_tables(FULL_SCAN) == ["closures_closure"]


def test_a_scan_stopped_early_by_a_limit_is_not_a_finding():
    assert lib.scanned_tables(CAPPED_COUNT) == []


def test_scans_of_small_lookup_tables_are_not_findings():
    assert lib.scanned_tables(SMALL_TABLE) == []


def test_forms_are_read_as_a_browser_would_submit_them():
    html = """
    <form action="/i18n/setlang/" method="post"><input type="hidden" name="next" value="/"></form>
    <form method="post">
      <input type="hidden" name="csrfmiddlewaretoken" value="abc">
      <select name="reason"><option value="" selected>Choose…</option><option value="3">Price</option></select>
      <select name="size"><option value="s">S</option><option value="m" selected>M</option></select>
      <textarea name="notes">keep
me</textarea>
      <input type="checkbox" name="ack" checked><input type="checkbox" name="off">
      <button type="submit" name="go">Continue</button>
    </form>"""
    language, closure = lib.read_forms(html)
    assert language["action"] == "/i18n/setlang/"
    assert closure["method"] == "post"
    assert closure["fields"] == {
        "csrfmiddlewaretoken": "abc",
        "reason": "",
        "size": "m",
        "notes": "keep\nme",
        "ack": "on",
    }


def test_generated_sections_replace_only_their_own_part_of_the_document():
    text = "# Benchmarks\n\nprose\n\n<!-- bench:results:start -->\nold\n<!-- bench:results:end -->\n\nmore prose\n"
    updated = lib.replace_section(text, "results", "new table")
    assert "new table" in updated and "old" not in updated
    assert updated.startswith("# Benchmarks\n\nprose") and updated.endswith("more prose\n")
    assert "<!-- bench:explain:start -->\nplans\n<!-- bench:explain:end -->" in lib.replace_section(
        updated, "explain", "plans"
    )


@pytest.mark.django_db
def test_the_benchmark_refuses_to_run_on_sqlite():
    if connection.vendor == "postgresql":
        pytest.skip("this is the SQLite case")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command(Bench(), "--no-seed")
