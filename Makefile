# slodrift: the two commands of the README, plus helpers. Everything runs from .venv, set up by
# scripts/install.sh (Debian's prometheus/alertmanager/victoria-metrics packages + the Python package).
.PHONY: run demo check test test-full install golden lint typecheck bench clean screenshots

VENV := .venv
BIN := $(VENV)/bin
OUT ?= out/example
SPEC ?= examples/checkout.yml

install:
	bash scripts/install.sh

## run: install, render the example spec, check and unit-test the rules with promtool, show the summary
run: install
	$(BIN)/slodrift check $(SPEC)
	$(BIN)/slodrift generate $(SPEC) --out $(OUT)
	$(BIN)/slodrift test $(OUT)

## demo: the whole loop live on 127.0.0.1 (services, Prometheus, Alertmanager, the exporter, a release that
## regresses and is rolled back, the report and a backtest); Ctrl-C stops everything. DEMO_ARGS=--fast: ~1 min
demo: install
	$(BIN)/slodrift demo $(DEMO_ARGS)

## check: the fast inner loop (under a minute): lint, format, types, and the tests that start no server
## and are not marked slow
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	bash scripts/typecheck.sh
	$(BIN)/python -m pytest -q -m "not slow and not integration"

## test: install, lint, format, types, and the whole test suite (integration and slow tests included),
## three test files at a time, longest first (most tests wait on a server or a promtool process); under 8
## minutes on 2 cores
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	bash scripts/typecheck.sh
	$(BIN)/python -m pytest -q -n 3 --dist loadfile --no-loadscope-reorder --durations=15

## test-full: `make test` with the exhaustive variants of its most expensive tests (every mutation of
## the mutation tests, promtool tests of every importer-corpus spec); about half an hour
test-full: install
	SLODRIFT_FULL_TESTS=1 $(BIN)/python -m pytest -q -n 3 --dist loadfile --no-loadscope-reorder

## golden: re-render the checked-in golden files (rules/, promtool-tests/) from the example spec
golden: install
	$(BIN)/slodrift generate $(SPEC) --out .

## screenshots: re-take the README's screenshots (docs/*.png) from the browser tests, in headless Chromium
screenshots: install
	SLODRIFT_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/test_report_browser.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	bash scripts/typecheck.sh

typecheck: install
	bash scripts/typecheck.sh

bench: install
	$(BIN)/python bench/run_all.py
	$(BIN)/python bench/scenarios/run.py

clean:
	rm -rf out build .pytest_cache .ruff_cache .mypy_cache
