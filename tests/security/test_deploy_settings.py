"""Production settings: the deploy check is clean, and bad configuration stops the app at start.

Each test starts a fresh interpreter with exactly the environment it describes, because the
settings are read once, at import.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "crm.example.com",
    "STATIC_MANIFEST": "1",
    "DATABASE_URL": "postgres://crm:secret@db.example.com:5432/crm",
    "CRM_FIELD_KEYS": "uqBm4c2fNnTqWIjqE8j7sYlK3V7mCQ3rQ9cS2b2rJ7w=,lH5h7y4cBvXw0dJ3FQ0pTb5oI7r2kR1sYx9mN3aZ6eE=",
    "CRM_HASH_KEY": secrets.token_urlsafe(48),
}


def _run(args: list[str], env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "LANG": "C.UTF-8"}
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=timeout
    )


def test_the_deploy_check_passes_with_production_settings_and_no_warnings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "no issues" in output


def test_the_deploy_check_passes_behind_a_tls_proxy():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {**PRODUCTION, "BEHIND_TLS_PROXY": "1"}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_would_catch_an_insecure_setting():
    # The test above means something only if the check speaks up when a setting is wrong.
    result = _run(["manage.py", "check", "--deploy"], {**PRODUCTION, "SECURE_HSTS_SECONDS": "0"})
    assert "security.W004" in result.stdout + result.stderr


def test_the_deploy_check_warns_when_the_field_keys_are_derived_from_the_secret_key():
    unset = {k: v for k, v in PRODUCTION.items() if k not in ("CRM_FIELD_KEYS", "CRM_HASH_KEY")}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], unset)
    assert result.returncode != 0
    assert "crm.W001" in result.stderr and "CRM_FIELD_KEYS and CRM_HASH_KEY not set" in result.stderr


def test_a_malformed_field_key_stops_the_app_at_start():
    result = _run(["manage.py", "check"], {**PRODUCTION, "CRM_FIELD_KEYS": "not-a-key"})
    assert result.returncode != 0
    assert "CRM_FIELD_KEYS: key 1 is not a Fernet key" in result.stderr


def test_production_settings_are_the_secure_ones():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.X_FRAME_OPTIONS, s.SESSION_COOKIE_HTTPONLY,"
        " s.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[-1], s.DATABASES['default']['ENGINE'])"
    )
    result = _run(
        ["-c", f"import django; django.setup(); {code}"], {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "crm.settings"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "True",
        "True",
        "DENY",
        "True",
        "CompressedManifestStaticFilesStorage",
        "django.db.backends.postgresql",
    ]


SECRET_KEY_CASES = {
    "missing": None,
    "empty": "",
    "the-demo-key": "demo-insecure-key-for-local-development-only",
    "a-demo-key": "demo-anything",
}
BAD_VALUES = [
    ("DEBUG", "maybe"),
    ("STATIC_MANIFEST", "perhaps"),
    ("BEHIND_TLS_PROXY", "2"),
    ("SECURE_SSL_REDIRECT", "sometimes"),
    ("SESSION_IDLE_MINUTES", "half an hour"),
    ("LOGIN_FAILURE_LIMIT", "five"),
    ("CONN_MAX_AGE", "1.5"),
    ("IMPORT_MAX_MB", "20MB"),
    ("PROXY_HOPS", "one"),
]

# Runs crm/settings.py afresh under each environment in one interpreter (an import per case in
# its own process would cost most of a second each) and reports what each run raised.
_PROBE = """
import json, os, runpy, sys
results = []
for env in json.load(sys.stdin):
    os.environ.clear()
    os.environ.update(env)
    try:
        runpy.run_path("crm/settings.py")
        results.append("")
    except Exception as exc:
        results.append(f"{type(exc).__name__}: {exc}")
print(json.dumps(results))
"""


def _settings_errors(envs: list[dict[str, str]]) -> list[str]:
    clean = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        input=json.dumps([{**clean, **env} for env in envs]),
        capture_output=True,
        text=True,
        timeout=60,
        env=clean,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def secret_key_errors() -> dict[str, str]:
    envs = []
    for value in SECRET_KEY_CASES.values():
        env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
        if value is not None:
            env["SECRET_KEY"] = value
        envs.append(env)
    envs.append({"DEBUG": "1"})
    return dict(zip([*SECRET_KEY_CASES, "debug-with-demo-key"], _settings_errors(envs), strict=True))


@pytest.fixture(scope="module")
def bad_value_errors() -> dict[str, str]:
    envs = [{**PRODUCTION, name: value} for name, value in BAD_VALUES]
    return dict(zip([name for name, _ in BAD_VALUES], _settings_errors(envs), strict=True))


@pytest.mark.parametrize("case", SECRET_KEY_CASES)
def test_the_app_refuses_to_start_without_a_real_secret_key_when_debug_is_off(case, secret_key_errors):
    assert secret_key_errors[case].startswith("ImproperlyConfigured: SECRET_KEY must be set")


def test_the_app_refuses_to_start_in_a_real_process_too():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_demo_key_is_accepted_only_with_debug_on(secret_key_errors):
    assert secret_key_errors["debug-with-demo-key"] == ""


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_a_bad_value_stops_the_app_and_names_the_variable(name, value, bad_value_errors):
    error = bad_value_errors[name]
    assert error.startswith(f"ImproperlyConfigured: {name} ")
    assert repr(value) in error


def test_a_bad_debug_value_stops_a_real_process_with_the_variables_name():
    result = _run(["manage.py", "check"], {**PRODUCTION, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr.strip().splitlines()[-1]


def test_the_settings_support_several_machines():
    """A replica for reports, Redis for cache and sessions, S3 for export files: all from the environment."""
    code = (
        "import django, json; django.setup();"
        "from django.conf import settings as s; from crm.routers import reporting_db;"
        "print(json.dumps([sorted(s.DATABASES), s.DATABASE_ROUTERS, reporting_db(), s.SESSION_ENGINE,"
        " s.CACHES['default']['BACKEND'], s.STORAGES['default']['BACKEND'],"
        " s.STORAGES['default']['OPTIONS']['default_acl']]))"
    )
    env = {
        **PRODUCTION,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DATABASE_REPLICA_URL": "postgres://reader:secret@replica.example.com:5432/crm",
        "REDIS_URL": "redis://cache.example.com:6379/1",
        "S3_BUCKET": "crm-exports",
    }
    result = _run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        ["default", "replica"],
        ["crm.routers.ReplicaRouter"],
        "replica",
        "django.contrib.sessions.backends.cache",
        "django.core.cache.backends.redis.RedisCache",
        "storages.backends.s3.S3Storage",
        "private",
    ]
