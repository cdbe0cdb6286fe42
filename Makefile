# Interlock: `make run` serves on http://127.0.0.1:8000 (HOST, PORT, DATA_DIR to change), `make test`
# runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STATIC := backend/interlock/static/index.html
FRONTEND_SRC := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig.json -type f 2>/dev/null)

.PHONY: run test test-stress test-lowest-uvicorn install install-test frontend chromium lint fmt bench types clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The WebSocket tests again on the lowest uvicorn pyproject.toml allows (interlock.wire uses
# its protocol's internals), in a venv of its own; pip's cache keeps the rebuild quick.
UVICORN_LOWEST := $(shell sed -n 's/.*"uvicorn\[standard\]>=\([0-9.]*\),.*/\1/p' pyproject.toml)
LOWEST_VENV := .venv-uvicorn-$(UVICORN_LOWEST)
WS_TESTS := tests/api/test_ws_protocol.py tests/api/test_replay.py tests/test_wire.py \
	tests/api/test_ws_limits.py tests/api/test_bad_input.py tests/api/test_ws_abuse.py \
	tests/test_wire_parsing.py

$(LOWEST_VENV)/.installed: pyproject.toml
	python3 -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install --quiet -e '.[test]' 'uvicorn[standard]==$(UVICORN_LOWEST)'
	touch $@

test-lowest-uvicorn: $(LOWEST_VENV)/.installed
	$(LOWEST_VENV)/bin/python -c 'import uvicorn; assert uvicorn.__version__ == "$(UVICORN_LOWEST)"'
	$(LOWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider $(WS_TESTS)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(STATIC): frontend/node_modules/.package-lock.json $(FRONTEND_SRC)
	cd frontend && npm run build --silent

frontend: $(STATIC)

# `make run HOST=0.0.0.0 PORT=9000 DATA_DIR=/srv/interlock`. Each defaults to its INTERLOCK_*
# variable, then to Settings' default; every other setting is read from INTERLOCK_* as usual.
HOST ?= $(or $(INTERLOCK_HOST),127.0.0.1)
PORT ?= $(or $(INTERLOCK_PORT),8000)
DATA_DIR ?= $(or $(INTERLOCK_DATA_DIR),./data)

run: install frontend
	$(VENV)/bin/interlock serve --host '$(HOST)' --port '$(PORT)' --data-dir '$(DATA_DIR)'

chromium:
	bash scripts/ensure-chromium.sh

# pytest workers (pytest-xdist). Two: most tests wait on sockets and subprocesses, so on the
# 2-core machine -n 2 runs the suite in about 60% of the serial time (133 s vs 232 s, measured
# on a loaded machine); every test must also pass with -n 4. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

# Lint and the console's checks first, so the last lines are pytest's summary.
test: install-test frontend chromium
	$(MAKE) --no-print-directory lint
	cd frontend && npm run --silent check:types && npm run --silent typecheck && npm test --silent
	$(MAKE) --no-print-directory test-lowest-uvicorn
	$(PYTEST)

# The Python suite STRESS_RUNS times in a row while another process keeps one core busy;
# stops at the first failure. A flake found here is fixed in the test or the product (no
# retries). Takes a while: run it when you touch timing, threads or the test servers.
STRESS_RUNS ?= 5
test-stress: install-test frontend chromium
	@$(PY) -c 'while True: pass' & burner=$$!; \
	trap 'kill $$burner' EXIT; \
	for run in $$(seq 1 $(STRESS_RUNS)); do \
		echo "== stress run $$run of $(STRESS_RUNS), one core kept busy (pid $$burner)"; \
		$(PYTEST) || { echo "== stress run $$run failed"; exit 1; }; \
	done; \
	echo "== $(STRESS_RUNS) stress runs passed"

lint: install-test
	$(VENV)/bin/ruff check backend tests bench
	$(VENV)/bin/ruff format --check backend tests bench
	$(VENV)/bin/mypy backend tests bench

fmt: install-test
	$(VENV)/bin/ruff check --fix backend tests bench
	$(VENV)/bin/ruff format backend tests bench

types: install
	$(PY) -m interlock.schema > frontend/src/lib/protocol.schema.json
	$(PY) -m interlock.schema --openapi frontend/src/lib/openapi.json
	cd frontend && npm run --silent gen:types
	$(PY) -m interlock.schema --docs docs/protocol.md
	$(PY) -m interlock.flags --docs README.md

bench: install-test
	$(PY) bench/fanout.py
	$(PY) bench/latency.py
	$(PY) bench/ping_flood.py
	$(PY) bench/message_flood.py
	$(PY) bench/stop_latency.py --controller epics
	$(PY) bench/scale.py
	$(PY) bench/redis_store.py
	$(PY) bench/cluster.py

clean:
	rm -rf $(VENV) .venv-uvicorn-* backend/interlock/static frontend/node_modules data
