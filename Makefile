# The project's commands. `make test` is the one check CI runs: it builds the
# virtual environment, installs cis2 with its test extras and the pinned node
# peers, then runs ruff, mypy --strict and the whole test suite.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := interop/node_modules/.installed-stamp

.PHONY: test check lint types pytest demo bench clean

test: check

check: $(STAMP) node-deps lint types pytest

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

node-deps: $(NODE_STAMP)

$(NODE_STAMP): interop/package.json interop/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd interop && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed-stamp; \
	else \
		echo "npm not found: the interop tests will be skipped (see interop/README.md)"; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

types: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/cis2 demo

bench: $(STAMP) node-deps
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) interop/node_modules .mypy_cache .pytest_cache .ruff_cache
