# Every target creates .venv when missing, so a fresh clone needs nothing but python3.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv installs the lock (measured against pip: see README, Installing) and writes it.
UV := $(BIN)/uv
UV_VERSION := 0.13.8
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes -q

.PHONY: venv demo test lint bench calibrate restore plan lock clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	# The system pip (23.2) backtracks for 20+ minutes on this dependency set.
	$(BIN)/python -m pip install -q -U pip

$(UV): | $(BIN)/python
	$(BIN)/python -m pip install -q uv==$(UV_VERSION)

# Exactly the locked versions (hashes checked, nothing resolved), then the project itself.
$(STAMP): requirements/dev.txt pyproject.toml | $(UV)
	$(UV) pip install -q --python $(BIN)/python --no-deps --require-hashes -r requirements/dev.txt
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# After a change to the dependencies in pyproject.toml: every transitive version, re-resolved.
lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra local --extra infra --extra test $(LOCK_FLAGS) \
		-o requirements/dev.txt
	# The image's subset, at the same versions as the development lock.
	$(UV) pip compile pyproject.toml -c requirements/dev.txt $(LOCK_FLAGS) -o requirements/image.txt

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
	$(BIN)/lint-imports --no-logo
	$(BIN)/deptry .

calibrate: $(STAMP)
	$(BIN)/bfdemo calibrate

restore: $(STAMP)
	$(BIN)/bfdemo restore

plan: $(STAMP)
	$(BIN)/bfdemo plan blackfriday

clean:
	rm -rf $(VENV) $(BENCH_VENV) .demo bench/.work
