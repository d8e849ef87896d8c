"""`make serve`: gunicorn's configuration and the static files it serves through whitenoise."""

import runpy
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"
POSTGRES = "postgres://crm:secret@db.example.com:5432/crm"


def _load(monkeypatch, **env) -> dict:
    for name in ("DATABASE_URL", "ALLOW_SQLITE", "BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG))


def test_gunicorn_serves_the_wsgi_app_on_localhost_by_default(monkeypatch):
    config = _load(monkeypatch, DATABASE_URL=POSTGRES)
    assert config["wsgi_app"] == "crm.wsgi:application"
    assert config["bind"] == ["127.0.0.1:8000"]
    assert config["preload_app"] is True
    assert config["accesslog"] == "-"
    assert config["errorlog"] == "-"
    assert config["control_socket_disable"] is True


def test_workers_follow_the_cpu_count_within_a_cap(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(2)), raising=False)
    assert _load(monkeypatch, DATABASE_URL=POSTGRES)["workers"] == 5
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert _load(monkeypatch, DATABASE_URL=POSTGRES)["workers"] == 12


def test_timeouts_and_worker_recycling_are_set(monkeypatch):
    config = _load(monkeypatch, DATABASE_URL=POSTGRES)
    assert config["timeout"] == 30
    assert config["graceful_timeout"] == 30
    assert config["max_requests"] > 0
    assert 0 < config["max_requests_jitter"] < config["max_requests"]
    assert config["threads"] >= 1


def test_the_environment_overrides_bind_workers_threads_and_timeout(monkeypatch):
    config = _load(
        monkeypatch,
        DATABASE_URL=POSTGRES,
        BIND="0.0.0.0:8080,unix:/run/crm.sock",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="45",
    )
    assert config["bind"] == ["0.0.0.0:8080", "unix:/run/crm.sock"]
    assert (config["workers"], config["threads"], config["timeout"]) == (3, 4, 45)


def test_a_bad_number_stops_gunicorn_with_the_variables_name(monkeypatch):
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
        _load(monkeypatch, DATABASE_URL=POSTGRES, WEB_CONCURRENCY="many")


@pytest.mark.parametrize("url", [None, "sqlite:////srv/crm/db.sqlite3"], ids=["unset", "sqlite"])
def test_gunicorn_refuses_to_serve_sqlite_unless_asked(monkeypatch, url):
    env = {"DATABASE_URL": url} if url else {}
    with pytest.raises(SystemExit, match="needs PostgreSQL"):
        _load(monkeypatch, **env)
    assert _load(monkeypatch, ALLOW_SQLITE="1", **env)["workers"] >= 1


def test_the_access_log_leaves_out_query_strings(monkeypatch):
    # Searches carry names and phone numbers in the query string; %(U)s is the path alone.
    log_format = _load(monkeypatch, DATABASE_URL=POSTGRES)["access_log_format"]
    assert "%(U)s" in log_format
    for with_query in ("%(r)s", "%(q)s", "%(u)s"):
        assert with_query not in log_format


def test_production_static_files_are_hashed_and_compressed(settings, tmp_path):
    """collectstatic with the production storage writes names with a content hash, and .gz/.br."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    css = sorted(p.name for p in (tmp_path / "css").iterdir() if p.name.startswith("app."))
    hashed = [n for n in css if n.count(".") == 2 and n.endswith(".css")]
    assert hashed, css
    assert f"{hashed[0]}.gz" in css
    assert (tmp_path / "staticfiles.json").exists()
