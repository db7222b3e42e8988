# Two commands on a fresh machine:
#   make serve   set everything up and run Dripline on its embedded default
#   make test    set everything up and run the whole test suite (what CI runs)
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup serve test lint unit bench

setup: $(VENV)/.installed

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

test: setup lint
	$(BIN)/pytest -n 2 --dist loadfile

unit: setup
	$(BIN)/pytest -n 2 --dist loadfile -m "not postgres and not kafka"

# The benchmark against the floor and the peers (docs/benchmarks.md): the bench extra, then
# the quick drip run. `$(BIN)/python -m bench <workload> --help` for the rest.
bench: setup
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench drip --quick
