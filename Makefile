# Two commands on a fresh machine:
#   make serve   set everything up and run Dripline on its embedded default
#   make test    set everything up and run the whole test suite (what CI runs)
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup serve test lint unit bench console console-check browser

setup: $(VENV)/.installed console

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

serve: setup
	$(BIN)/dripline serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: setup lint browser console-check
	$(BIN)/pytest -n 2 --dist loadfile

unit: setup
	$(BIN)/pytest -n 2 --dist loadfile -m "not postgres and not kafka"

# The benchmark against the floor and the peers (docs/benchmarks.md): the bench extra, then
# the quick drip run. `$(BIN)/python -m bench <workload> --help` for the rest.
bench: setup
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench drip --quick

# The web console (docs/console.md): TypeScript in console/, built with npm into
# api/static/console/, where the package ships it (serve needs no Node). Without npm (or when
# the build fails) the committed build is used as it is; a test fails the suite when it is
# stale.
console:
	@if command -v npm >/dev/null; then \
	  cd console && { npm ci --no-audit --no-fund --loglevel=error && npm run --silent build; } || \
	  echo "THE CONSOLE BUILD FAILED (above): using the committed build; the suite checks it"; \
	else echo "npm not found: using the committed console build (Node 20 rebuilds it)"; fi

# In CI the build just made must be the committed one: a change to console/ without its
# rebuilt files fails here instead of shipping a stale console.
console-check: console
	@if [ "$$CI" = true ] && command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; \
	then git diff --exit-code --stat -- api/static/console tests/console/vendor || \
	  { echo "the committed console build is stale: run make console and commit it"; exit 1; }; fi

# The console's browser checks drive Debian's Chromium (never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "install Chromium (apt-get install chromium): the console tests need /usr/bin/chromium"; fi; \
	fi
