"""Settings, read from the environment (see the README's table of variables).

One file for every environment: development (`make run`, DEBUG=1, SQLite), tests
(pytest, see [tool.pytest.ini_options] env in pyproject.toml) and production
(DEBUG unset, PostgreSQL from DATABASE_URL, a real SECRET_KEY).
"""

import base64
import binascii
import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

DEMO_SECRET_KEY = "demo-insecure-key-for-local-development-only"  # noqa: S105 (refused outside DEBUG)
SECRET_KEY = os.environ.get("SECRET_KEY", "") or (DEMO_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEMO_SECRET_KEY or SECRET_KEY.startswith("demo-")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off "
        "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )


def env_fernet_keys(name: str) -> list[str]:
    """Comma-separated Fernet keys (URL-safe base64 of 32 bytes), each checked now rather than at first use."""
    keys = env_list(name, [])
    for position, key in enumerate(keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32 and len(key) == 44
        except (ValueError, binascii.Error):
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                f"{name}: key {position} is not a Fernet key (44 characters of URL-safe base64; generate one with: "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
            )
    return keys


# Sensitive card fields (crm/crypto.py): the Fernet keys (the first encrypts, all decrypt, so keys
# can rotate: docs/deployment.md) and the key of their keyed hash (exact search). Unset, both are
# derived from SECRET_KEY, so `make run` and the tests need nothing; `check --deploy` warns (crm.W001).
CRM_FIELD_KEYS = env_fernet_keys("CRM_FIELD_KEYS")
CRM_HASH_KEY = os.environ.get("CRM_HASH_KEY", "").strip()
if CRM_HASH_KEY and len(CRM_HASH_KEY) < 32:
    raise ImproperlyConfigured(
        "CRM_HASH_KEY must be at least 32 characters "
        "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "django_htmx",
    "template_partials",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crm",
    "customers",
    "service",
    "closures",
    "followups",
    "insights",
    "privacy",
    "analytics",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "crm.middleware.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.middleware.HtmxLoginMiddleware",
    "axes.middleware.AxesMiddleware",
    "api.middleware.CallLog",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Unset DATABASE_URL: an embedded SQLite file. postgres://... : PostgreSQL through psycopg 3,
# with persistent connections and health checks (a 25-row page went from 175 to 849 req/s).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["TEST"] = {"NAME": ""}
    # The last-digits index covers (status, id) on PostgreSQL (customers migration 0009); SQLite
    # keeps the plain index and leaves the covered columns out, which is all this warning says.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation once cost a dashboard query 842 ms to save a few: short OLTP queries here.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["crm.routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
# An idle window, not a lifetime: crm.middleware.IdleSessionMiddleware moves the expiry forward
# while the user keeps working (one session write per half window, not one per request).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# How long the header's inbox count is kept per user (crm/inbox.py); 0 counts on every page.
INBOX_CACHE_SECONDS = env_int("INBOX_CACHE_SECONDS", 30)

# --- Authentication -------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "crm.backends.PermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:search"
LOGOUT_REDIRECT_URL = "login"

# Admins never set other people's passwords: the Users page gives a one-time link instead (an
# invitation for a new user, a reset link later; crm.invitations), valid this long and spent once used.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_HOURS", 24) * 3600

AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Email (password-reset links) ---------------------------------------------------------
# Development prints mail to the console; production sends through SMTP (EMAIL_HOST...).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")
# A mail server that does not answer must not hold the request past gunicorn's 30 s.
EMAIL_TIMEOUT = 10
# Whether the CRM emails people (invitations, password-reset links; crm.invitations.mail_enabled):
# unset, yes unless EMAIL_BACKEND is the console, dummy or file backend; without mail the Admin is
# shown the one-time link to hand over.
CRM_MAIL_ENABLED = None if os.environ.get("CRM_MAIL_ENABLED", "").strip() == "" else env_bool("CRM_MAIL_ENABLED", True)

# --- Follow-ups after a closure (followups/) ---------------------------------------------------
# The public address customers' links point to (survey, unsubscribe): messages are sent by a worker,
# with no request to take the host from.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# How long an exit survey link stays valid.
FOLLOWUP_SURVEY_DAYS = env_int("FOLLOWUP_SURVEY_DAYS", 30)
# Sending (followups/sending.py): a message that fails is tried again after 1, 5, 25... minutes,
# then marked failed after this many attempts.
FOLLOWUP_MAX_ATTEMPTS = env_int("FOLLOWUP_MAX_ATTEMPTS", 5)
# The largest attachment a ticket step takes (service/attachments.py), in MB.
SERVICE_ATTACHMENT_MAX_MB = env_int("SERVICE_ATTACHMENT_MAX_MB", 5)
# SMTP connections a batch is sent over at once (one thread each; 2 helps with a slow mail server).
FOLLOWUP_SMTP_CONNECTIONS = env_int("FOLLOWUP_SMTP_CONNECTIONS", 1)
# Text messages (followups/sms.py): "file" writes them to SMS_FILE_DIR (development); "http" sends
# through the provider's signed API; or a dotted path to a backend class.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "file")
SMS_FILE_DIR = os.environ.get("SMS_FILE_DIR", str(BASE_DIR / "var" / "sms"))
SMS_API_URL = os.environ.get("SMS_API_URL", "")
SMS_ACCESS_KEY = os.environ.get("SMS_ACCESS_KEY", "")
SMS_SECRET = os.environ.get("SMS_SECRET", "")
SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME", "")
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10)

# --- Integration: the REST API and webhooks (api/) ------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.TokenAuthentication", "api.auth.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.DeclaredPermissions"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerCaller"],
    # Every error in one JSON shape with a bilingual message (api/errors.py, docs/integration.md).
    "EXCEPTION_HANDLER": "api.errors.handler",
}
# Calls per token (or per logged-in person on the browsable API), counted in the cache: Redis when
# REDIS_URL is set, so every web process shares the count; otherwise per process (api/throttling.py).
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/min")
# How long the log of each token's calls is kept (api.models.ApiCall), in days.
API_CALL_LOG_DAYS = env_int("API_CALL_LOG_DAYS", 90)
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Customer cards, closures and their figures; see docs/integration.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is behind login too (issue 22): a token or a session, as every API view.
    "SERVE_PERMISSIONS": ["api.permissions.DeclaredPermissions"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Webhooks (api/delivery.py, docs/integration.md). Host names an endpoint may use even though
# they resolve to loopback or private addresses (tests, on-premises receivers); empty: none.
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", [])
# Seconds to wait for a receiver: to connect, and for the whole request and answer.
WEBHOOK_CONNECT_TIMEOUT = env_int("WEBHOOK_CONNECT_TIMEOUT", 3)
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10)
# A delivery is tried at most this many times (30 s, 2 min, 10 min, 1 h, 6 h, then daily), then failed.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 10)
# An endpoint is disabled (and Admins told) after this many failed attempts in a row spanning at
# least WEBHOOK_DISABLE_AFTER_HOURS: a short outage with many cards waiting does not disable it.
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 10)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 24)
# Deliveries sent at once (threads, each keeping its connections to the receivers open).
WEBHOOK_THREADS = env_int("WEBHOOK_THREADS", 4)
# Days delivered deliveries stay in the log.
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 30)

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
# One date format per language everywhere (crm/formats/<language>/formats.py). Numbers are grouped
# where a template asks (|intcomma, |money), not by USE_THOUSAND_SEPARATOR, which would also put
# separators into ids in URLs and form values.
FORMAT_MODULE_PATH = ["crm.formats"]
# The currency sign of every amount shown (crm.formatting.money, the |money filter).
CRM_CURRENCY_SYMBOL = os.environ.get("CURRENCY_SYMBOL", "¥")

# --- Static and uploaded files -----------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded files (imports) are capped; see customers/imports/uploads.py.
# Generated customer numbers (the card form without a number; an import with "generate numbers"):
# the prefix and at least this many digits, drawn from one sequence (customers.numbers).
CUSTOMER_NO_PREFIX = os.environ.get("CUSTOMER_NO_PREFIX", "C").strip().upper()
if not re.fullmatch(r"[A-Z][A-Z_-]{0,9}", CUSTOMER_NO_PREFIX):
    raise ImproperlyConfigured(
        "CUSTOMER_NO_PREFIX must be 1 to 10 letters (A-Z, and - or _ after the first), no digits; "
        f"got {CUSTOMER_NO_PREFIX!r}"
    )
CUSTOMER_NO_DIGITS = env_int("CUSTOMER_NO_DIGITS", 6)
if not 3 <= CUSTOMER_NO_DIGITS <= 12:
    raise ImproperlyConfigured(f"CUSTOMER_NO_DIGITS must be between 3 and 12; got {CUSTOMER_NO_DIGITS}")
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_MB", 20) * 1024 * 1024
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
# What an .xlsx may make the reader hold (the reasons for each default: customers/imports/limits.py).
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 100)
IMPORT_MAX_SHARED_STRINGS = env_int("IMPORT_MAX_SHARED_STRINGS", 2_000_000)
IMPORT_MAX_SHARED_STRING_BYTES = env_int("IMPORT_MAX_SHARED_STRINGS_MB", 64) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Export and import files hold personal data: readable by the app's own user only, like backups.
# FileSystemStorage applies the folder mode to every folder it creates (MEDIA_ROOT itself
# included) whatever the process umask is, and chmods each file it writes.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
EXPORT_FILE_TTL_HOURS = env_int("EXPORT_FILE_TTL_HOURS", 24)
# Closure exports up to this many rows download at once; larger ones run as a background job.
ANALYTICS_EXPORT_DIRECT_MAX_ROWS = env_int("EXPORT_DIRECT_MAX_ROWS", 20_000)
# Several app servers and workers need one place for export files: a shared MEDIA_ROOT (NFS) or,
# with S3_BUCKET set, an S3-compatible bucket through django-storages. django-storages[s3] is NOT
# in requirements.lock: install it on the servers that set S3_BUCKET (see docs/deployment.md).
if os.environ.get("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "location": "media",
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- Background jobs ------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# Without a broker, jobs run in a background thread of the web process (see crm/jobs.py);
# JOBS_RUN_INLINE=1 runs them inside the request instead (the tests do, to stay synchronous).
JOBS_RUN_INLINE = env_bool("JOBS_RUN_INLINE", False)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A static schedule (`make beat`): the follow-ups that are due are sent every minute. Without a
# broker, run `manage.py send_due_followups` from cron instead.
CELERY_BEAT_SCHEDULE = {
    "send-due-followups": {"task": "followups.send_due", "schedule": 60.0, "options": {"expires": 55}},
    # The customers' scores (insights/scoring.py), every night at 02:30 local time.
    "score-customers": {"task": "insights.score_customers", "schedule": crontab(hour=2, minute=30)},
    # ... and the cards changed since the last run, every 15 minutes (insights/runs.py score_changed).
    "score-changed-customers": {"task": "insights.score_changed", "schedule": crontab(minute="*/15")},
    # The owners' daily risk digest by e-mail at 07:30, after the night's run (when INSIGHTS_DIGEST_EMAIL).
    "send-risk-digest": {"task": "insights.send_risk_digest", "schedule": crontab(hour=7, minute=30)},
    # The webhooks that are due (api/delivery.py): retries, and any send a lost kick left behind.
    "send-webhooks": {"task": "api.send_webhooks", "schedule": 30.0, "options": {"expires": 25}},
    # Delivered webhooks older than WEBHOOK_LOG_DAYS leave the log, every night at 03:10 (and the API
    # tokens' calls older than API_CALL_LOG_DAYS theirs).
    "prune-webhook-log": {"task": "api.prune_webhook_log", "schedule": crontab(hour=3, minute=10)},
    # The switched-on data-retention rules (privacy/retention_runs.py), every night at 01:30.
    "run-retention": {"task": "privacy.run_retention", "schedule": crontab(hour=1, minute=30)},
}
# Whether owners get their daily digest of customers newly at risk by e-mail (insights/digest.py);
# in the app they see them in their inbox either way.
INSIGHTS_DIGEST_EMAIL = env_bool("INSIGHTS_DIGEST_EMAIL", False)
# A retention action's outcome window: retained when the customer buys again within it (insights/actions.py).
RETENTION_WINDOW_DAYS = env_int("RETENTION_WINDOW_DAYS", 60)
# Days within which a personal-data request (privacy/) must be answered: its due date.
PRIVACY_REQUEST_DAYS = env_int("PRIVACY_REQUEST_DAYS", 30)

# --- Security -------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the proxy: how many proxies append to X-Forwarded-For (see crm.middleware.client_ip).
PROXY_HOPS = env_int("PROXY_HOPS", 1)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Lockouts count per (username, client address); the address must be one a client cannot forge.
AXES_CLIENT_IP_CALLABLE = "crm.middleware.client_ip"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging: everything to stdout, for the process manager to collect -------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
