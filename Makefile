# `make demo` and `make test` do all set-up on a fresh machine: create .venv with Python >= 3.12
# (pyenv picks 3.12 from .python-version), install decenter with its dev extra, then run.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= 2

.PHONY: demo test lint format fuzz bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "decenter needs Python >= 3.12 (PyMC 6); found " + sys.version.split()[0] + ". Install 3.12 or run: make PYTHON=/path/to/python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/decenter demo

# JOBS pytest-xdist workers (2: the CI machine's cores; JOBS=0 runs in one process).
# DECENTER_NO_SKIPS=1: a test skipped for a missing package fails the run (tests/conftest.py).
# DECENTER_TEST_SEED shifts every sampling test's seed (CI runs 0, 1 and 2). pytest's exit
# code 5 (no tests collected) is a failure too, said in words.
test: $(STAMP)
	@DECENTER_NO_SKIPS=1 $(BIN)/python -m pytest -q -n $(JOBS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples

format: $(STAMP)
	$(BIN)/ruff format src tests examples
	$(BIN)/ruff check --fix src tests examples

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_property.py

bench: $(STAMP)
	$(BIN)/decenter bench

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
