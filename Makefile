# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast lint serve worker beat bench loadtest backup restore collectstatic messages venv venv-dev clean

$(VENV)/.runtime: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(PIP) install -q --disable-pip-version-check -r requirements-dev.lock
	touch $@

venv: $(VENV)/.runtime
venv-dev: $(VENV)/.dev

## Set up and serve on the embedded SQLite database, with demo data.
run: venv
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

## Set up and run every test (browser tests skip where chromium is absent), on one worker per core
## (pytest-xdist, at most 4; each worker has its own test database; a module marked xdist_group stays on
## one worker, which makes its shared data once: tests/module_data.py). TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto
test: venv-dev
	$(PY) -m pytest -n $(TEST_WORKERS) --maxprocesses=4 --dist loadgroup $(PYTEST_ARGS)

## Production: static files into STATIC_ROOT (hashed, compressed), then gunicorn (gunicorn.conf.py).
## Needs SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL=postgres://... (see docs/deployment.md).
collectstatic: venv
	DEBUG=0 $(PY) manage.py collectstatic --noinput

serve: collectstatic
	DEBUG=0 $(PY) manage.py check --deploy --fail-level WARNING
	DEBUG=0 $(VENV)/bin/gunicorn --config gunicorn.conf.py

## A Celery worker for long jobs (exports, imports, bulk closures); needs CELERY_BROKER_URL.
worker: venv
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)." >&2; exit 2; }
	$(VENV)/bin/celery -A crm worker --loglevel=INFO

## The scheduler that sends due follow-ups every minute (crm/settings.py CELERY_BEAT_SCHEDULE); needs CELERY_BROKER_URL.
## Without a broker, run `manage.py send_due_followups` from cron every minute instead.
beat: venv
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)." >&2; exit 2; }
	mkdir -p var
	$(VENV)/bin/celery -A crm beat --loglevel=INFO --schedule=var/celerybeat-schedule

## Back up the database into BACKUP_DIR (default ./backups); restore one with FILE=...
backup: venv
	$(PY) manage.py backup

restore: venv
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=backups/<timestamp>.dump" >&2; exit 2; }
	$(PY) manage.py restore "$(FILE)"

## Benchmark at scale (PostgreSQL): creates, migrates and seeds BENCH_DATABASE_URL on first use
## (1,000,000 customers, 250,000 closures, about 7 minutes), then writes bench/results.json.
## The commands live in bench/, a development-only app that bench.settings adds to crm.settings.
## The dev requirements: the sending figure starts a local SMTP server (aiosmtpd) in the process.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench
bench: venv-dev
	DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=0 CELERY_BROKER_URL= \
	SECRET_KEY=$${SECRET_KEY:-bench-only-secret-not-used-in-production-0123456789} \
	$(PY) manage.py bench $(BENCH_ARGS)

## Load test of the realistic mix at 16 and 64 users against gunicorn (locust in .venv-locust).
loadtest: venv
	DATABASE_URL=$(BENCH_DATABASE_URL) bench/loadtest.sh

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

## Re-extract the translatable strings into locale/zh_Hans, then compile (translate new ones first).
messages: venv-dev
	DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --no-obsolete --no-location \
		-i ".venv/*" -i "staticfiles/*" -i "bench/*" -i "backups/*" -i "var/*"
	DEBUG=1 $(PY) manage.py compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) db.sqlite3 var
