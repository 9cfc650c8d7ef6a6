# closeloop: `make help` lists the targets. `make run` and `make test` are the two you need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/closeloop/web/static/vendor
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: help install run test test-pg lint typecheck imports checks fmt migrate revision i18n bench check clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/swagger-ui $(VENDOR)/htmx
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/swagger-ui/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	touch $(STAMP)

install: $(STAMP) ## Create the virtualenv and install Python and front-end packages

run: install ## Migrate, seed the demo on first start, serve on http://127.0.0.1:8000
	$(BIN)/closeloop db upgrade
	$(BIN)/closeloop demo seed --if-empty
	$(BIN)/closeloop serve

test: install ## Lint, type-check, import contracts, custom checks, the whole test suite
	sh tools/install_system_packages.sh
	$(BIN)/ruff format --check src tests tools bench
	$(BIN)/ruff check src tests tools bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/checks/run.py
	$(BIN)/pytest

test-pg: install ## The test suite on SQLite and on the local PostgreSQL
	CLOSELOOP_TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest

lint: install ## ruff lint and format check
	$(BIN)/ruff format --check src tests tools bench
	$(BIN)/ruff check src tests tools bench

typecheck: install ## mypy --strict
	$(BIN)/mypy

imports: install ## import-linter contracts
	$(BIN)/lint-imports

checks: install ## custom AST rules (tools/checks)
	$(BIN)/python tools/checks/run.py

fmt: install ## Format and autofix
	$(BIN)/ruff format src tests tools bench
	$(BIN)/ruff check --fix src tests tools bench

migrate: install ## Apply migrations to the configured database
	$(BIN)/closeloop db upgrade

revision: install ## New migration from model changes: make revision m="what changed"
	$(BIN)/alembic revision --autogenerate -m "$(m)"

i18n: install ## Extract strings and update the zh_CN/en catalogues
	$(BIN)/python tools/i18n.py update

bench: install ## Run the benchmarks (see bench/README.md)
	$(BIN)/python bench/ticket_create_throughput.py
	$(BIN)/python bench/ticket_list_latency.py

check: test ## Everything CI runs (= make test; CI also sets the PostgreSQL and Redis URLs)

clean: ## Remove the virtualenv and installed front-end packages (keeps var/)
	rm -rf $(VENV) node_modules $(VENDOR)
