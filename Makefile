# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test test-default test-slow mutation mutation-report lint typecheck eval bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/siem-consensus demo

# `make test` (what CI runs): the default suite, then the data-driven evaluations marked slow.
# pytest's exit code 5 ("no tests ran") fails the target like any other non-zero exit.
test: test-default test-slow

# Everything not marked slow (pyproject.toml: addopts = -m 'not slow'); a few minutes.
test-default: $(DEVSTAMP)
	$(BIN)/python -m pytest -q

# The data-driven evaluations on ../shared/data (CIC-IDS2017, AIT-ADS) and the insider seeds.
# A missing data set skips locally and fails under CI=true (tests/conftest.py).
test-slow: $(DEVSTAMP)
	$(BIN)/python -m pytest -q -m 'slow and not scale'

# Mutation testing of the decision path ([tool.mutmut] in pyproject.toml, docs/testing.md).
# Results are cached in mutants/: a second run only re-tests what changed. Bytecode is written
# (PYTHONDONTWRITEBYTECODE unset): every worker would otherwise recompile the mutated modules.
# A subset:
#   make mutation MUTANTS='siem_consensus.consensus.*'
MUTANTS ?=
mutation: $(DEVSTAMP)
	mkdir -p mutants
	PYTHONPATH=$(CURDIR)/mutants CI= HYPOTHESIS_PROFILE=mutation PYTHONDONTWRITEBYTECODE= $(BIN)/mutmut run --max-children 2 $(foreach m,$(MUTANTS),'$(m)')
	$(BIN)/python scripts/mutation_report.py

# The per-module scores of the last run, and the surviving mutants by name.
mutation-report: $(DEVSTAMP)
	$(BIN)/python scripts/mutation_report.py --survivors

lint: $(DEVSTAMP)
	$(BIN)/ruff check siem_consensus tests benchmarks examples scripts
	$(BIN)/mypy

eval: $(DEVSTAMP)
	$(BIN)/python -m siem_consensus.evaluation.cicids2017

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_firewall.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache mutants
