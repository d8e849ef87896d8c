"""Which tests run on which database, and CI's gate on skips.

Markers: ``postgres`` (needs PostgreSQL: its triggers, row locks between connections, pg_dump)
and ``sqlite`` (the SQLite path of code that has one for each database). A test carries the
marker; :func:`skip_other_database` skips it, with one reason per marker, on the other database.

The gate: a test that skipped tested nothing, and a run that skips what it should have tested
still looks green. With ``CRM_SKIP_ALLOWLIST`` set to the run's database (``sqlite`` or
``postgres``; .ci/run sets it) every skipped test, xfail and xpass included, must match an entry of
:data:`ALLOWED` for that database, else the session fails (exit code 1) and lists the offenders.
Without the variable (``make test`` on a developer's machine) skips stay polite: a missing
chromium, LibreOffice or gettext skips with its reason.
"""

import os

import pytest

POSTGRES_ONLY = "needs PostgreSQL (marker postgres: set DATABASE_URL=postgres://...)"
SQLITE_ONLY = "the SQLite path (marker sqlite: covered by the run on SQLite)"
MARKERS = {"postgres": ("postgresql", POSTGRES_ONLY), "sqlite": ("sqlite", SQLITE_ONLY)}

# The allow-list: the run's database -> the (marker, skip reason) pairs that may skip in it.
# Keep it short; anything else that skips in CI is a test CI did not run.
ALLOWED = {
    # The PostgreSQL-only tests (append-only trigger, real concurrent connections, pg_dump/restore,
    # the name-gram trigger, the epoch counts): the PostgreSQL run of the same .ci/run runs them.
    "sqlite": [("postgres", POSTGRES_ONLY)],
    # The SQLite-only paths (the SQLite backup file, the plain uncached count, commands that must
    # refuse SQLite): the SQLite run of the same .ci/run runs them. Nothing else may skip.
    "postgres": [("sqlite", SQLITE_ONLY)],
}
VENDORS = {"sqlite": "sqlite", "postgres": "postgresql"}

# Tests whose outcome (and printed output) the CI log shows by name: the independent checks that
# once skipped quietly on a machine without the tool they need.
WITNESSES = {
    "tests/analytics/test_export.py::test_libreoffice_opens_the_workbook": "LibreOffice reads an exported .xlsx",
    "tests/crm/test_translations.py::": "the Chinese catalogue (msgfmt, xgettext)",
}


def skip_other_database(items) -> None:
    """Skip each test marked for the other database, with the marker's one reason."""
    from django.db import connection

    for item in items:
        for marker, (vendor, reason) in MARKERS.items():
            if item.get_closest_marker(marker) and connection.vendor != vendor:
                item.add_marker(pytest.mark.skip(reason=reason))


def register_gate(config) -> None:
    """Install the gate when CRM_SKIP_ALLOWLIST names the run's database."""
    database = os.environ.get("CRM_SKIP_ALLOWLIST", "").strip()
    if not database:
        return
    if database not in ALLOWED:
        raise pytest.UsageError(f"CRM_SKIP_ALLOWLIST={database!r}: use one of {', '.join(ALLOWED)}")
    from django.db import connection

    if connection.vendor != VENDORS[database]:
        raise pytest.UsageError(
            f"CRM_SKIP_ALLOWLIST={database} but the tests run on {connection.vendor} (check DATABASE_URL)"
        )
    config.pluginmanager.register(SkipGate(database), "crm-skip-gate")


def _skip_reason(report) -> str:
    if hasattr(report, "wasxfail"):
        return report.wasxfail
    longrepr = report.longrepr
    message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return message.removeprefix("Skipped: ")


class SkipGate:
    """Collects every skip, xfail and xpass of the session and fails it on any not allow-listed."""

    def __init__(self, database: str):
        self.database = database
        self.allowed = ALLOWED[database]
        self.offenders: list[str] = []
        self.allowed_count = 0
        self.witnessed: dict[str, list] = {}

    def _allows(self, report, reason: str) -> bool:
        if hasattr(report, "wasxfail"):
            return False  # an expected failure is a test that does not test; none is allow-listed today
        return any(marker in report.keywords and reason == allowed for marker, allowed in self.allowed)

    def pytest_runtest_logreport(self, report):
        if any(report.nodeid.startswith(prefix) for prefix in WITNESSES) and (report.when == "call" or report.skipped):
            self.witnessed.setdefault(report.nodeid, []).append(report)
        if not (report.skipped or hasattr(report, "wasxfail")):
            return
        reason = _skip_reason(report)
        if self._allows(report, reason):
            self.allowed_count += 1
            return
        kind = "xfail" if report.skipped and hasattr(report, "wasxfail") else "xpass" if report.passed else "skip"
        self.offenders.append(f"{kind}: {report.nodeid}: {reason}")

    def pytest_collectreport(self, report):
        if report.skipped:  # a whole module skipped (pytest.skip(allow_module_level=True), importorskip)
            self.offenders.append(f"skip: {report.nodeid} (the whole module): {_skip_reason(report)}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        if self.offenders and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        write = terminalreporter.write_line
        terminalreporter.section(f"skip gate ({self.database}: CRM_SKIP_ALLOWLIST)")
        for prefix, what in WITNESSES.items():
            reports = {nodeid: r for nodeid, r in self.witnessed.items() if nodeid.startswith(prefix)}
            if not reports:
                write(f"{what}: not run in this session ({prefix})")
            for nodeid, (report, *_) in sorted(reports.items()):
                write(f"{what}: {report.outcome.upper()} {nodeid} ({report.duration:.1f}s)")
                for line in report.capstdout.splitlines():
                    write(f"    {line}")
        write(f"{self.allowed_count} skipped as allow-listed for {self.database}: {self.allowed}")
        if self.offenders:
            write(f"FAILED: {len(self.offenders)} skipped or xfail test(s) not on the allow-list:", red=True, bold=True)
            for offender in self.offenders:
                write(f"  {offender}", red=True)
