# Two commands for a newcomer: `make run` starts everything, `make test` passes the tests.
# Both create what they need: the backend venv (.venv), the dashboard venv (.venv-dashboard)
# and a project-local bun for Reflex (see mk/dashboard.mk). arq and Reflex need incompatible
# redis-py versions, hence two environments from one pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
BACKEND_STAMP := $(VENV)/.installed

include mk/dashboard.mk

.PHONY: run test lint fmt test-backend test-e2e bench deps chromium wrk clean

deps: $(BACKEND_STAMP) dashboard-deps

$(BACKEND_STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[backend,dev]'
	$(VENV)/bin/pip check
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; never a downloaded browser).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

run: deps
	$(DASHBOARD_ENV) $(VENV)/bin/switchboard up

lint: $(BACKEND_STAMP)
	$(VENV)/bin/ruff check backend tests benchmarks dashboard rxconfig.py
	$(VENV)/bin/ruff format --check backend tests benchmarks dashboard rxconfig.py
	$(VENV)/bin/mypy

fmt: $(BACKEND_STAMP)
	$(VENV)/bin/ruff check --fix backend tests benchmarks dashboard rxconfig.py
	$(VENV)/bin/ruff format backend tests benchmarks dashboard rxconfig.py

test-backend: $(BACKEND_STAMP)
	$(VENV)/bin/pytest -q --ignore=tests/dashboard --ignore=tests/e2e

test-e2e: deps chromium
	$(VENV)/bin/pytest -q tests/e2e

test: deps chromium lint test-backend dashboard-test test-e2e

# The load generator: Debian's wrk (the benchmark falls back to a slower asyncio client).
wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || echo "wrk not installed: the asyncio client will load the server"

bench: $(BACKEND_STAMP) wrk
	$(VENV)/bin/python -m benchmarks.webhook_ingest

clean:
	rm -rf $(VENV) $(DASHBOARD_VENV) .tools .web var
