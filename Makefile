# One command each: `make demo` sets up and runs the main job on the sample; `make test` sets up and
# passes the tests. Both create .venv on first use and install comptune with its test extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all bench serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/comptune solve datasets/sample --assumptions datasets/sample/assumptions/south-freeze.yaml --out out/sample

test: $(STAMP)
	$(BIN)/pytest -q

test-all: $(STAMP)
	$(BIN)/pytest -q -m "slow or not slow"

bench: $(STAMP)
	$(BIN)/pytest tests/benchmarks -m benchmark --benchmark-only --benchmark-autosave --benchmark-storage=.benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache
