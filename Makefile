# Two commands a newcomer needs: `make run` and `make test`. Everything else is installed on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUN := .tools/node_modules/.bin/bun
BUN_VERSION := 1.4.5
PORT ?= 3000
CHROMIUM ?= /usr/bin/chromium

export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_DIR := $(CURDIR)/.reflex
export REFLEX_CHECK_LATEST_VERSION := 0
export PORT

.PHONY: run dev test test-fast lint migrate deps runtime-deps chromium bench screens frontend-lock clean help

help:
	@echo "make run       - install what is missing, migrate, serve on http://localhost:$(PORT)"
	@echo "make dev       - the same with hot reload (UI :3000, API/webhooks :8000)"
	@echo "make test      - install what the tests need and run the whole suite"
	@echo "make test-fast - the inner loop: every test except the browser, PostgreSQL and image-build ones"
	@echo "make lint      - ruff (lint and format check), mypy, hadolint (Dockerfile), and import-linter"
	@echo "make bench     - run the benchmarks in bench/"
	@echo "make screens   - copy the browser tests' screenshots (.test-runs/screens) to docs/screens"
	@echo "make frontend-lock - resolve the frontend's packages again into reflex.lock/ (after a Reflex upgrade)"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Python 3.11 or newer is required (found: $$($(PYTHON) --version 2>&1)). Install it, or run 'make PYTHON=python3.11 ...'."; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The app needs only requirements.txt (the Docker image installs nothing else); tests, lint and type
# checks add requirements-dev.txt. Each stamp is renewed when a file it was installed from changes.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(BUN):
	@command -v npm >/dev/null || { echo "npm is required to install bun (Reflex's frontend tool). Install Node.js 20+ (e.g. 'apt-get install -y nodejs npm')."; exit 1; }
	npm install --prefix .tools --no-fund --no-audit --loglevel=error bun@$(BUN_VERSION)

runtime-deps: $(VENV)/.installed $(BUN)

deps: runtime-deps $(VENV)/.installed-dev

migrate: runtime-deps
	$(PY) -m humanic_app migrate

run: migrate
	$(VENV)/bin/reflex run --env prod --frontend-port $(PORT) --backend-port $(PORT)

dev: migrate
	$(VENV)/bin/reflex run --env dev

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium from Debian for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	      { echo "Could not install Chromium. Install it with 'apt-get install -y chromium' and re-run."; exit 1; }; \
	  else \
	    echo "Chromium is missing at $(CHROMIUM). Install it with 'sudo apt-get install -y chromium' (or set CHROMIUM=/path/to/chromium)."; exit 1; \
	  fi; \
	fi

test: deps chromium
	HUMANIC_CHROMIUM=$(CHROMIUM) $(PY) -m pytest $(PYTEST_ARGS)

# No browser, no PostgreSQL and no image build: needs neither Chromium, bun, a PostgreSQL server nor the network.
test-fast: $(VENV)/.installed-dev
	$(PY) -m pytest -m "not browser and not postgres and not image" $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile
	@if [ -f .importlinter ]; then echo "$(VENV)/bin/lint-imports"; $(VENV)/bin/lint-imports; \
	  else echo "no .importlinter: import contracts skipped"; fi

bench: deps
	$(PY) -m bench.startup

# The browser tests write the gallery under .test-runs/screens (tests never change tracked files); this copies
# what the last run wrote over docs/screens, which the README links. Pictures of pages not run stay as they were.
screens:
	@ls .test-runs/screens/*.png >/dev/null 2>&1 || { echo "No screenshots in .test-runs/screens: run the browser tests first (e.g. make test PYTEST_ARGS=tests/e2e/test_every_page.py)."; exit 1; }
	mkdir -p docs/screens
	cp .test-runs/screens/*.png docs/screens/
	@echo "$$(ls .test-runs/screens/*.png | wc -l) screenshots copied to docs/screens/"

# reflex.lock/ pins the frontend's packages for every build (README "The image"). This resolves them afresh from
# the registry in a scratch build directory, and Reflex writes the result there. A second build from the new
# lockfile leaves reflex.lock/ byte for byte as every later build does (Reflex then writes its package.json
# compact), which deploy/build.sh checks.
frontend-lock: runtime-deps
	rm -rf reflex.lock
	for pass in resolve settle; do \
	  scratch=$$(mktemp -d) && \
	  REFLEX_WEB_WORKDIR="$$scratch/.web" HUMANIC_DATA_DIR="$$scratch/data" \
	    $(VENV)/bin/reflex export --frontend-only --no-zip --loglevel warning; status=$$?; \
	  rm -rf "$$scratch"; [ $$status -eq 0 ] || exit $$status; \
	done

clean:
	rm -rf .web .states .test-runs .pytest_cache
