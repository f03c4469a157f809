# Two commands set up a fresh machine: `make run` serves, `make test` tests.
# Each bootstraps what is missing (.venv, node_modules) first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test setup contracts bench compare clean

run: setup
	$(BIN)/coo up

test: setup
	$(BIN)/pytest -q

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

contracts: setup
	$(BIN)/python scripts/compile.py

bench: setup
	$(BIN)/python scripts/bench.py

compare: setup
	$(BIN)/python scripts/compare.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache
