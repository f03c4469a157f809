# Two commands set up a fresh machine: `make run` serves, `make test` tests.
# Each bootstraps what is missing (.venv, node_modules) first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
BROWSER_STAMP := $(VENV)/.browser
WRK_STAMP := $(VENV)/.wrk

.PHONY: run test test-network setup contracts bench compare clean

run: setup
	$(BIN)/coo up

# Two pytest sessions side by side (scripts/run_tests.py): the scenarios on the four-node EthereumJS
# consortium network (-m network: kill, rejoin, partition, an even split, the comparison's consortium
# cells), which mostly wait on the block period, and everything else on one managed Anvil.
test: setup $(BROWSER_STAMP) $(WRK_STAMP)
	$(BIN)/python scripts/run_tests.py

# The network scenarios alone.
test-network: setup
	$(BIN)/pytest -q -m network

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# `npm install` (not `npm ci`): the lock pins every version, but npm records only this
# platform's Anvil binary package in it, which `npm ci` rejects as out of sync.
$(NODE_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# Headless Chromium for the browser test, from Debian's packages when missing (never a downloaded browser).
$(BROWSER_STAMP): $(PY_STAMP)
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -q && apt-get install -y -q chromium chromium-driver; }
	touch $@

# wrk, the compiled load generator of the benchmark, from Debian's packages when missing.
$(WRK_STAMP): $(PY_STAMP)
	command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
	touch $@

contracts: setup
	$(BIN)/python scripts/compile.py

bench: setup $(WRK_STAMP)
	$(BIN)/python scripts/bench_primitives.py
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_zk.py

compare: setup
	$(BIN)/python scripts/compare.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache
