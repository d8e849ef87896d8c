"""Gunicorn settings for `make serve` (production serving; see docs/deployment.md).

Every value can be changed from the environment: BIND, WEB_CONCURRENCY, GUNICORN_THREADS,
GUNICORN_TIMEOUT. Gunicorn reads this file before it imports the app.
"""

import os
import sys


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"{name} must be a whole number; got {raw!r}")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


# PostgreSQL only, unless asked: several worker processes writing to one SQLite file queue up
# behind its single write lock, and the default SQLite file is the demo database.
_database_url = os.environ.get("DATABASE_URL", "")
if not _database_url.startswith(("postgres://", "postgresql://", "pgsql://")) and os.environ.get("ALLOW_SQLITE") != "1":
    sys.exit(
        "make serve needs PostgreSQL: set DATABASE_URL=postgres://user:password@host:5432/name "
        "(or ALLOW_SQLITE=1 to serve a small installation from SQLite anyway)."
    )

wsgi_app = "crm.wsgi:application"
bind = os.environ.get("BIND", "127.0.0.1:8000").split(",")

# The classic 2 x cores + 1, capped: past about a dozen processes a machine mostly adds memory
# and database connections (each thread keeps one, CONN_MAX_AGE); add machines instead.
workers = _int("WEB_CONCURRENCY", min(2 * _cores() + 1, 12))
threads = _int("GUNICORN_THREADS", 2)  # > 1 selects the gthread worker
timeout = _int("GUNICORN_TIMEOUT", 30)  # long work runs as a job, never in a request
graceful_timeout = 30
keepalive = 5  # longer than a load balancer's idle reuse, so it never sends to a closing socket

# Recycle workers now and then so a slow leak can never grow without bound; the jitter keeps
# them from all restarting at once.
max_requests = 1000
max_requests_jitter = 100

# Import the app once in the master: workers fork ready to serve, and a broken configuration
# (a missing SECRET_KEY) stops the server at start instead of failing in every worker.
preload_app = True

# Logs to stdout/stderr for the process manager. The access log omits query strings: searches
# carry names and phone numbers, which have no place in a log file.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

# Gunicorn 25+ opens a management socket in the user's home by default; the process manager
# (systemd, a container runtime) already controls the server, and two instances run by one
# user would fight over that one path.
control_socket_disable = True

if os.path.isdir("/dev/shm"):  # noqa: S108 (gunicorn's own heartbeat files, not our data)
    worker_tmp_dir = "/dev/shm"  # noqa: S108 heartbeat files in memory: a slow disk cannot get workers killed


def post_fork(server, worker):
    # Never share a database connection opened in the master (preload) between processes.
    from django.db import connections

    connections.close_all()
