# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install migrate seed schema bench load peer clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/ikz migrate

seed: migrate
	$(BIN)/ikz seed --if-empty --demo

run: seed
	$(BIN)/ikz serve

test: install
	$(BIN)/python -m pytest

# Re-export schema/schema.graphql after changing the GraphQL types.
schema: install
	$(BIN)/strawberry export-schema schema.build:default_schema --output schema/schema.graphql

bench: install
	$(BIN)/python bench/catalogue.py
	$(BIN)/python bench/onboarding.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/cache.py

# Loopback load against `ikz serve --workers 2` on PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL or the local server).
load: install
	$(BIN)/python bench/load.py

# This service against PostGraphile 4 (npx; skipped with the reason without Node.js) on one PostgreSQL database.
peer: install
	$(BIN)/python bench/peer.py

clean:
	rm -rf $(VENV) var .pytest_cache *.egg-info
