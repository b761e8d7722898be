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

demo: $(STAMP)
	$(BIN)/bfdemo demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy services scenarios infra

calibrate: $(STAMP)
	$(BIN)/bfdemo calibrate

restore: $(STAMP)
	$(BIN)/bfdemo restore

plan: $(STAMP)
	$(BIN)/bfdemo plan blackfriday

clean:
	rm -rf $(VENV) .demo
