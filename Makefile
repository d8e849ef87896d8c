# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast lint serve worker bench backup restore messages venv venv-dev clean

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

## Set up and run every test (browser tests skip where chromium is absent).
test: venv-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

messages: venv-dev
	cd $(CURDIR) && $(PY) manage.py makemessages -l zh_Hans --no-obsolete --no-location
	$(PY) manage.py compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) db.sqlite3 var
