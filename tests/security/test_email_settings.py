"""Mail settings (password-reset links) come from the environment, and the README lists every variable."""

import json
import re
from pathlib import Path

from tests.security.test_deploy_settings import PRODUCTION, _run, _settings_errors

ROOT = Path(__file__).resolve().parents[2]
EMAIL_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s;"
    "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD,"
    " s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL, s.PASSWORD_RESET_TIMEOUT]))"
)


def _email_settings(env: dict[str, str]) -> list:
    result = _run(["-c", EMAIL_SETTINGS], {"DJANGO_SETTINGS_MODULE": "crm.settings", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_sends_mail_through_the_smtp_server_the_environment_names():
    env = {
        **PRODUCTION,
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": "587",
        "EMAIL_HOST_USER": "crm",
        "EMAIL_HOST_PASSWORD": "mail-secret",
        "EMAIL_USE_TLS": "1",
        "DEFAULT_FROM_EMAIL": "CRM <crm@example.com>",
        "PASSWORD_RESET_HOURS": "2",
    }
    assert _email_settings(env) == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        587,
        "crm",
        "mail-secret",
        True,
        "CRM <crm@example.com>",
        7200,
    ]


def test_by_default_production_uses_smtp_on_localhost_and_development_prints_mail():
    assert _email_settings(PRODUCTION)[:3] == ["django.core.mail.backends.smtp.EmailBackend", "localhost", 25]
    development = _email_settings({"DEBUG": "1"})
    assert development[0] == "django.core.mail.backends.console.EmailBackend"
    assert development[-1] == 24 * 3600  # a reset link works for a day


def test_a_bad_mail_value_stops_the_app_and_names_the_variable():
    port, tls = _settings_errors([{**PRODUCTION, "EMAIL_PORT": "smtp"}, {**PRODUCTION, "EMAIL_USE_TLS": "maybe"}])
    assert port.startswith("ImproperlyConfigured: EMAIL_PORT ")
    assert tls.startswith("ImproperlyConfigured: EMAIL_USE_TLS ")


def test_every_variable_the_settings_read_is_in_the_readmes_table():
    settings = (ROOT / "crm" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'(?:os\.environ\.get\(|os\.environ\[|env_bool\(|env_int\(|env_list\()\s*"(\w+)"', settings))
    table = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    assert {"EMAIL_HOST", "JOBS_RUN_INLINE", "SECRET_KEY"} <= names
    assert sorted(name for name in names if not any(f"`{name}`" in line for line in table)) == []
