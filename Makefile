# Ferry's commands. `make help` lists them; the README's Quick start is `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.DEFAULT_GOAL := help
.PHONY: help demo test browser lint typecheck layers unit bench clean
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime ## create a virtualenv, install Ferry, run a sample-data -> DuckDB sync twice and show the result
	@FERRY_BIN=$(BIN) bash examples/demo/run.sh

lint: $(VENV)/.dev ## ruff lint and format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.dev ## mypy in strict mode
	$(BIN)/mypy

layers: $(VENV)/.dev ## check the import layering of DESIGN.md
	$(BIN)/lint-imports

unit: $(VENV)/.dev ## run the test suite only
	$(BIN)/pytest -n 2 --dist loadgroup

browser: ## install Debian's Chromium for the web UI's browser tests
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

test: browser lint typecheck layers unit ## install what the tests need and run every check and test

bench: $(VENV)/.dev ## run the benchmarks (prints rows/s and peak memory; not a test); BENCH_ARGS=--external adds Airbyte connectors
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean: ## remove the virtualenv and build output
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
