# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up on the way.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := QUIZ_ENV=development $(BIN)/flask --app wsgi
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup test-setup chromium check-questions bench bench-scale clean serve wrk bench-requests nginx

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps: reinstall only when the pinned dependencies change.
$(VENV)/.deps-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.deps-test: pyproject.toml $(VENV)/.deps-run
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

static/vendor/htmx.min.js: node_modules/.installed
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

setup: $(VENV)/.deps-run static/vendor/htmx.min.js

test-setup: setup $(VENV)/.deps-test chromium nginx

# Browser tests drive Debian's Chromium; Playwright cannot download its own browser here.
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# The deployment tests run the README's nginx configuration in front of gunicorn.
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nginx-light; }

run: setup
	$(FLASK) db upgrade
	$(FLASK) questions load
	$(FLASK) demo
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl+C to stop)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

# The whole suite on SQLite (the default database), then the database-touching tests again on
# PostgreSQL when one is reachable (CI machines run one; the app itself never needs it).
test: test-setup
	$(FLASK) questions check
	TEST_POSTGRES_URL='$(PG_TEST_URL)' $(BIN)/python -m pytest
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_TEST_URL)'.replace('+psycopg', ''), connect_timeout=3).close()" 2>/dev/null; then \
		echo "== unit and test-client tests on PostgreSQL =="; \
		TEST_DATABASE_URL='$(PG_TEST_URL)' TEST_POSTGRES_URL='$(PG_TEST_URL)' $(BIN)/python -m pytest -q -p no:playwright tests/unit tests/web; \
	else echo "PostgreSQL is not reachable: skipped the PostgreSQL run."; fi

check-questions: setup
	$(FLASK) questions check

# Production on this machine: migrations, then the bank, then gunicorn (gunicorn.conf.py) on
# 127.0.0.1:8000. Needs SECRET_KEY (and DATABASE_URL for PostgreSQL) in the environment; QUIZ_ENV is
# always production here, whatever .env says. See the README's Deployment section.
PROD := QUIZ_ENV=production
serve: setup
	@$(PROD) $(BIN)/python gunicorn.conf.py
	@$(PROD) $(BIN)/flask --app wsgi db upgrade
	@$(PROD) $(BIN)/flask --app wsgi questions load
	@$(PROD) exec $(BIN)/gunicorn --config gunicorn.conf.py

# The load generator for `make bench`, from Debian when missing.
wrk:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }

$(VENV)/.deps-bench: pyproject.toml $(VENV)/.deps-run
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

# Load benchmark: gunicorn on loopback driven by wrk, on SQLite and (when reachable) PostgreSQL; then
# the scale section: the admin reports at 10k, 100k and 1M answers (ends with its RESULT scale line).
bench: setup wrk $(VENV)/.deps-bench
	TEST_POSTGRES_URL='$(PG_TEST_URL)' $(BIN)/python bench/bench_load.py $(BENCH_ARGS)
	TEST_POSTGRES_URL='$(PG_TEST_URL)' $(BIN)/python bench/bench_scale.py

# The scale section alone.
bench-scale: setup
	TEST_POSTGRES_URL='$(PG_TEST_URL)' $(BIN)/python bench/bench_scale.py

# The older in-process benchmark: per-request medians on a small and a large database.
bench-requests: setup
	$(BIN)/python bench/bench_patient.py
	$(BIN)/python bench/bench_nurse.py

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
