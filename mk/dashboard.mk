# Dashboard (Reflex) targets; the main Makefile includes this file.
#
#   make dashboard-deps   .venv-dashboard + a project-local bun (from npm), idempotent
#   make dashboard-test   state/client unit tests (no browser)
#   make dashboard-run    reflex run --env prod: pages + Reflex backend on one port (3000)
#
# Reflex's own bun installer downloads a script from a code-hosting site these machines cannot
# reach, so bun comes from the npm registry into .tools/ (see ../shared/notes/reflex-offline.md).

DASHBOARD_VENV ?= .venv-dashboard
DASHBOARD_STAMP := $(DASHBOARD_VENV)/.installed
DASHBOARD_PORT ?= $(or $(SWITCHBOARD_DASHBOARD_PORT),3000)
DASHBOARD_TOOLS ?= .tools
BUN_VERSION ?= 1.4.4
DASHBOARD_BUN := $(DASHBOARD_TOOLS)/bin/bun
BUN_NPM_PLATFORM := @oven/bun-linux-$(if $(filter aarch64 arm64,$(shell uname -m)),aarch64,x64)

# Prefixed to every command that runs Reflex: a project-local REFLEX_DIR, no telemetry, no
# version check, the bun from .tools, and the registry npm already uses (skips a mirror probe).
DASHBOARD_ENV = REFLEX_BUN_PATH="$(CURDIR)/$(DASHBOARD_BUN)" \
	REFLEX_DIR="$(CURDIR)/$(DASHBOARD_TOOLS)/reflex" \
	BUN_INSTALL_CACHE_DIR="$(CURDIR)/$(DASHBOARD_TOOLS)/bun-cache" \
	REFLEX_TELEMETRY_ENABLED=false \
	REFLEX_CHECK_LATEST_VERSION=false \
	NPM_CONFIG_REGISTRY="$$(npm config get registry 2>/dev/null)" \
	SWITCHBOARD_DASHBOARD_PORT=$(DASHBOARD_PORT)

.PHONY: dashboard-deps dashboard-test dashboard-run

dashboard-deps: $(DASHBOARD_STAMP) $(DASHBOARD_BUN)

$(DASHBOARD_STAMP): pyproject.toml $(DASHBOARD_LOCK)
	test -x $(DASHBOARD_VENV)/bin/python || python3 -m venv $(DASHBOARD_VENV)
	$(DASHBOARD_VENV)/bin/pip install -q -c $(DASHBOARD_LOCK) pip setuptools
	$(DASHBOARD_VENV)/bin/pip install -q -c $(DASHBOARD_LOCK) --build-constraint $(DASHBOARD_LOCK) -e '.[dashboard,dashboard-dev]'
	$(DASHBOARD_VENV)/bin/pip check
	touch $@

# `bun@x` places the real binary in a postinstall script; when scripts are blocked, the
# platform package carries the same binary.
$(DASHBOARD_BUN):
	mkdir -p $(DASHBOARD_TOOLS)/bin
	if npm install --no-save --no-audit --no-fund --prefix $(DASHBOARD_TOOLS) bun@$(BUN_VERSION) \
	   && $(DASHBOARD_TOOLS)/node_modules/bun/bin/bun.exe --version >/dev/null 2>&1; then \
	  ln -sf ../node_modules/bun/bin/bun.exe $(DASHBOARD_BUN); \
	else \
	  npm install --no-save --no-audit --no-fund --ignore-scripts --prefix $(DASHBOARD_TOOLS) \
	    $(BUN_NPM_PLATFORM)@$(BUN_VERSION) \
	  && ln -sf ../node_modules/$(BUN_NPM_PLATFORM)/bin/bun $(DASHBOARD_BUN); \
	fi
	$(DASHBOARD_BUN) --version

dashboard-test: $(DASHBOARD_STAMP)
	$(DASHBOARD_ENV) $(DASHBOARD_VENV)/bin/pytest tests/dashboard -q --confcutdir=tests/dashboard

# exec: Ctrl-C / SIGINT to the process group reaches reflex directly, which stops granian.
dashboard-run: dashboard-deps
	$(DASHBOARD_ENV) exec $(DASHBOARD_VENV)/bin/reflex run --env prod --frontend-port $(DASHBOARD_PORT)
