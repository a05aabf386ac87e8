# Two commands for a fresh machine: `make run` (the service) and `make test` (everything).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install lint typecheck unit browser screenshots chromium bench capacity clean

run: install
	$(BIN)/usertrail serve

test: install chromium lint typecheck unit browser

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium)

lint:
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck:
	$(BIN)/mypy

# Browser tests run in their own invocation: Playwright's sync API and pytest-asyncio's
# event loops do not share a process well.
unit:
	$(BIN)/pytest -m "not browser"

browser:
	$(BIN)/pytest -m browser

# The README's pictures of the demo and the dashboard, taken by the browser test.
screenshots: install chromium
	USERTRAIL_SCREENSHOTS=1 $(BIN)/pytest -m browser tests/e2e/test_demo.py

# Benchmarks print their figures; they are run by hand, never by `make test`.
bench: install
	@command -v wrk >/dev/null || ($(SUDO) apt-get install -y -q wrk)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.processing
	$(BIN)/python -m bench.processing --postgres
	$(BIN)/python -m bench.freshness
	$(BIN)/python -m bench.context
	$(BIN)/python -m bench.context --postgres
	$(BIN)/python -m bench.scaleout
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.relay
	$(BIN)/python -m bench.context_budget
	$(BIN)/python -m bench.code_shape

# Capture figures beside their ceilings, and CPU per role (bench/capacity.py).
capacity: install
	@command -v wrk >/dev/null || ($(SUDO) apt-get install -y -q wrk)
	$(BIN)/python -m bench.capacity

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
