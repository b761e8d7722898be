# Every target creates .venv when missing, so a fresh clone needs nothing but python3.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench calibrate restore plan clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	# The system pip (23.2) backtracks for 20+ minutes on this dependency set.
	$(BIN)/python -m pip install -q -U pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[local,infra,test]'
	touch $(STAMP)

# Locust is a benchmark opponent, not a dependency: its own venv, only for `make bench`.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/bin/locust: bench/requirements-locust.txt
	$(PY) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q -U pip
	$(BENCH_VENV)/bin/python -m pip install -q -r bench/requirements-locust.txt
	touch $@

demo: $(STAMP)
	$(BIN)/bfdemo demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP) $(BENCH_VENV)/bin/locust
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy services scenarios rehearsal infra bench

calibrate: $(STAMP)
	$(BIN)/bfdemo calibrate

restore: $(STAMP)
	$(BIN)/bfdemo restore

plan: $(STAMP)
	$(BIN)/bfdemo plan blackfriday

clean:
	rm -rf $(VENV) $(BENCH_VENV) .demo bench/.work
