"""CI's skip gate (tests/skips.py): a run with a skip that is not allow-listed fails, and says which.

Each test runs a small pytest session of its own (pytester, in this process, without Django) with
the gate installed for one database, and reads its exit code and its summary.
"""

import textwrap

import pytest

from tests import skips

pytest_plugins = ["pytester"]


@pytest.fixture
def session(pytester):
    """session(database, source) runs ``source`` as a test module under the gate for ``database``."""

    def run(database: str, source: str):
        pytester.makeconftest(
            f"""
            import pytest
            from tests import skips

            def pytest_configure(config):
                config.addinivalue_line("markers", "postgres: PostgreSQL only")
                config.addinivalue_line("markers", "sqlite: SQLite only")
                config.pluginmanager.register(skips.SkipGate({database!r}), "crm-skip-gate")
            """
        )
        pytester.makepyfile(test_module=textwrap.dedent(source))
        # Only pytest's own plugins: Django, hypothesis and the rest are not needed and cost a second each.
        plugins = ("django", "hypothesispytest", "faker", "pytest_env", "cacheprovider")
        return pytester.runpytest_inprocess(*(arg for name in plugins for arg in ("-p", f"no:{name}")))

    return run


PASSING = """
def test_passes():
    assert True
"""


def test_a_session_without_skips_passes(session):
    result = session("sqlite", PASSING)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*0 skipped as allow-listed for sqlite*"])


def test_a_postgres_only_test_skipped_with_the_markers_reason_is_allowed_on_sqlite(session):
    result = session(
        "sqlite",
        f"""
        import pytest

        @pytest.mark.postgres
        @pytest.mark.skip(reason={skips.POSTGRES_ONLY!r})
        def test_on_postgres():
            pass
        """,
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*1 skipped as allow-listed for sqlite*"])


def test_the_same_skip_fails_the_postgresql_run(session):
    result = session(
        "postgres",
        f"""
        import pytest

        @pytest.mark.postgres
        @pytest.mark.skip(reason={skips.POSTGRES_ONLY!r})
        def test_on_postgres():
            pass
        """,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*FAILED: 1 skipped or xfail test(s) not on the allow-list*", "*test_on_postgres*"])


@pytest.mark.parametrize(
    "source",
    [
        # the allow-listed reason without the marker
        f"import pytest\n@pytest.mark.skip(reason={skips.POSTGRES_ONLY!r})\ndef test_x(): pass\n",
        # the marker with another reason
        "import pytest\n@pytest.mark.postgres\n@pytest.mark.skip(reason='no time')\ndef test_x(): pass\n",
        # a skip in the test's body
        "import pytest\ndef test_x():\n    pytest.skip('LibreOffice is not installed')\n",
        # an expected failure, and an unexpected pass
        "import pytest\n@pytest.mark.xfail(reason='broken')\ndef test_x():\n    assert False\n",
        "import pytest\n@pytest.mark.xfail(reason='broken')\ndef test_x():\n    assert True\n",
        # a whole module
        "import pytest\npytest.skip('no Redis', allow_module_level=True)\ndef test_x(): pass\n",
    ],
    ids=["reason-without-marker", "marker-with-other-reason", "skip-in-body", "xfail", "xpass", "module"],
)
def test_any_other_skip_fails_the_sqlite_run_and_is_named(session, source):
    result = session("sqlite", source)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*FAILED: 1 skipped or xfail test(s) not on the allow-list*", "*test_module*"])


def test_a_failing_run_keeps_its_failure_and_an_empty_one_its_exit_code_5(session, pytester):
    failing = session("sqlite", "def test_x():\n    assert False\n")
    assert failing.ret == pytest.ExitCode.TESTS_FAILED
    empty = session("sqlite", "")
    assert empty.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_gate_names_the_witnesses_it_saw_or_did_not_see(session):
    result = session("sqlite", PASSING)
    result.stdout.fnmatch_lines(["*LibreOffice reads an exported .xlsx: not run in this session*"])


def test_an_unknown_database_in_the_setting_stops_the_run(monkeypatch):
    monkeypatch.setenv("CRM_SKIP_ALLOWLIST", "mysql")
    with pytest.raises(pytest.UsageError, match="use one of sqlite, postgres"):
        skips.register_gate(config=None)


def test_the_setting_must_name_the_database_the_tests_run_on(monkeypatch):
    from django.db import connection

    other = "sqlite" if connection.vendor == "postgresql" else "postgres"
    monkeypatch.setenv("CRM_SKIP_ALLOWLIST", other)
    with pytest.raises(pytest.UsageError, match=f"but the tests run on {connection.vendor}"):
        skips.register_gate(config=None)
