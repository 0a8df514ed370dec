# Two commands: `make demo` and `make test`. Each creates the environment when missing.
# `make demo` installs the light core (DuckDB, SQLite, no Spark, no PostgreSQL, no Java);
# `make test` adds the extras (spark, postgres), the test tools and the system packages the
# tests start (a Java runtime, the PostgreSQL server), so it still covers everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.core
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit fast bench docs clean

$(CORE): requirements-core.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $$(grep -E '^(setuptools|wheel)==' requirements.lock)
	$(BIN)/python -m pip install --quiet -r requirements-core.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	bash scripts/ensure-system.sh demo
	touch $(CORE)

$(STAMP): $(CORE) requirements.lock
	$(BIN)/python -m pip install --quiet -r requirements.lock
	bash scripts/ensure-system.sh test
	touch $(STAMP)

# the demo's job, then the pages and the API on its world until Ctrl-C
demo: $(CORE)
	$(BIN)/habeas --data-dir ./habeas-data demo
	$(BIN)/habeas --data-dir ./habeas-data serve --demo-accounts

test: $(STAMP) lint types unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy

# Every lane (PostgreSQL, NATS, the browser, Spark, the slow tests), the slowest named.
# pytest exits 5 when it collected no test: that is a failure here, not a pass.
unit: $(STAMP)
	$(BIN)/pytest -m "" --durations=25; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests ran"; exit 1; fi; exit $$rc

# The edit-test loop: SQLite and in-memory stores only, no server started.
fast: $(STAMP)
	$(BIN)/pytest --durations=10

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/resolve.py
	$(BIN)/python bench/store.py
	$(BIN)/python bench/lifecycle.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/publish.py
	$(BIN)/python bench/packet.py

docs: $(CORE)
	$(BIN)/python -m habeas.cli.reference > docs/cli.md

clean:
	rm -rf $(VENV) habeas-data
