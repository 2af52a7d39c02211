# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install migrate seed schema bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/ikz migrate

seed: migrate
	$(BIN)/ikz seed --if-empty

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

clean:
	rm -rf $(VENV) var .pytest_cache *.egg-info
