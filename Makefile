# One command each: `make run` sets up and serves the tactical review service on the sample company
# (embedded SQLite; `make run PORT=8080 HOST=0.0.0.0` to listen elsewhere); `make test` sets up and passes the tests. Both create .venv on first use and
# install comptune with its test extras. `make demo` runs the command-line review on the sample.
PYTHON ?= python3
PORT ?= 8000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run serve demo test test-all bench reset clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: serve

serve: $(STAMP)
	$(BIN)/comptune load datasets/sample
	COMPTUNE_PUBLIC_URL="$${COMPTUNE_PUBLIC_URL:-http://$(HOST):$(PORT)}" $(BIN)/comptune token ensure-admin
	$(BIN)/comptune serve --host $(HOST) --port $(PORT)

demo: $(STAMP)
	$(BIN)/comptune solve datasets/sample --assumptions datasets/sample/assumptions/south-freeze.yaml --out out/sample
	$(BIN)/comptune recommend datasets/sample --assumptions datasets/sample/assumptions/south-freeze.yaml --out out/sample/recommended

test: $(STAMP)
	$(BIN)/pytest -q

test-all: $(STAMP)
	$(BIN)/pytest -q -m "slow or not slow"

bench: $(STAMP)
	$(BIN)/pytest tests/benchmarks -m benchmark --benchmark-only --benchmark-autosave --benchmark-storage=.benchmarks

# the service's state: the SQLite database (with its WAL files) and what the commands wrote; the next
# `make run` loads the sample again and prints a new admin token
reset:
	rm -f comptune.db comptune.db-wal comptune.db-shm
	rm -rf out

clean: reset
	rm -rf $(VENV) .pytest_cache
