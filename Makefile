# Every target creates .venv when missing, so a fresh clone needs nothing but python3.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv installs the lock (measured against pip: see docs/rehearsal.md, Installing) and writes it.
UV := $(BIN)/uv
UV_VERSION := 0.13.8
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes -q

.PHONY: venv engine system demo twin test lint scan bench calibrate restore plan lock image-tag clean

$(UV):
	# The system pip (23.2) backtracks for 20+ minutes on this dependency set: the venv gets
	# the current pip, installed into it by the system's pip where that can (22.3 and later),
	# and uv in the same run (one pip start less); ensurepip's bundled copy, installed only to
	# be upgraded, took 2.8 s of a fresh clone's first verdict. Without a system pip, ensurepip
	# and then the upgrade.
	$(PY) -m venv --without-pip $(VENV)
	$(PY) -m pip --python $(BIN)/python install -q -U pip uv==$(UV_VERSION) 2>/dev/null || \
		{ $(BIN)/python -m ensurepip >/dev/null && $(BIN)/python -m pip install -q -U pip uv==$(UV_VERSION); }

# Exactly the locked versions (hashes checked, nothing resolved), then the project itself.
WARM_IMPORTS := rehearsal.cli, rehearsal.runner, rehearsal.report, services.__main__, \
	services.product_catalog.main, services.cart.main, services.checkout.main, services.load_generator.main, \
	services.calibration.run, uvicorn.loops.uvloop, uvicorn.protocols.http.httptools_impl
# The report's chart (matplotlib, a second), compiled beside the rest on the other core.
WARM_CHART := rehearsal.chart
WRITE_PYC := env -u PYTHONDONTWRITEBYTECODE

$(STAMP): requirements/dev.txt pyproject.toml | $(UV)
	$(UV) pip install -q --python $(BIN)/python --no-deps --require-hashes -r requirements/dev.txt
	# Bytecode for what the demo runs, compiled by importing it: without it a fresh clone's first
	# `make demo` started its services so slowly that minute 0 lost an arrival. Not the whole venv
	# (uv's --compile-bytecode): that took 15-37 s of a fresh clone's first verdict on 2 cores.
	# Written even where the environment sets PYTHONDONTWRITEBYTECODE (this machine does): the
	# step wrote nothing there, and every service then compiled its imports at each start (2 s
	# each instead of 1 s, measured), four at once before minute 0. It runs beside the project's
	# editable build (2.5 s), importing the project from here (`python -c` puts it on the path).
	$(WRITE_PYC) $(BIN)/python -c "import $(WARM_CHART)" & chart=$$!; \
		$(WRITE_PYC) $(BIN)/python -c "import $(WARM_IMPORTS)" & warm=$$!; \
		$(UV) pip install -q --python $(BIN)/python --no-deps -e . && wait $$warm && wait $$chart
	# Pulumi runs the program's dynamic providers (infra/dynamic) with Pulumi.yaml's virtualenv
	# taken relative to the program's folder, not the project's (pulumi/pulumi#7061): point it home.
	ln -sfn ../.venv infra/.venv
	touch $(STAMP)

venv: $(STAMP)

# After a change to the dependencies in pyproject.toml: every transitive version, re-resolved.
lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra local --extra infra --extra test $(LOCK_FLAGS) \
		-o requirements/dev.txt
	# The image's subset, at the same versions as the development lock.
	$(UV) pip compile pyproject.toml -c requirements/dev.txt $(LOCK_FLAGS) -o requirements/image.txt
	$(UV) pip compile requirements/scan.in $(LOCK_FLAGS) -o requirements/scan.txt

# Locust is a benchmark opponent, not a dependency: its own venv, only for `make bench`.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/bin/locust: bench/requirements-locust.txt
	$(PY) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q -U pip
	$(BENCH_VENV)/bin/python -m pip install -q -r bench/requirements-locust.txt
	touch $@

# The Pulumi CLI, its Kubernetes provider, etcd and Kubernetes' control plane, built from the
# pinned Go modules in tools/engine into ~/.cache/bfdemo/engine (reused by every checkout that
# pins the same versions). Cold: about 23 minutes on 2 cores (measured 2026-12-06); warm: seconds.
engine:
	$(PY) tools/engine/build.py

# Debian packages: iptables routes the local cluster's Services (rehearsal/kube/proxy.py);
# prometheus brings promtool, which checks and unit-tests the scenario's alert rules;
# chromium loads the load generator's presenter page headless (tests and its screenshot).
SYSTEM_PACKAGES := iptables-restore:iptables promtool:prometheus chromium:chromium
system:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do command -v "$${pair%%:*}" >/dev/null || \
		missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" != 0 ]; then \
		echo "missing Debian packages:$$missing; run: sudo apt-get install -y --no-install-recommends$$missing"; exit 1; fi; \
	if [ -n "$$missing" ]; then apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; fi

demo: $(STAMP) system
	$(BIN)/bfdemo demo

test: $(STAMP) engine system
	$(BIN)/python -m pytest

bench: $(STAMP) $(BENCH_VENV)/bin/locust
	$(BIN)/python -m bench

lint: $(STAMP) scan
	$(BIN)/ruff check .
	$(BIN)/mypy services scenarios rehearsal infra bench
	$(BIN)/lint-imports --no-logo
	$(BIN)/deptry .

# The scanners, in their own locked venv: checkov on the rendered stacks (the scenario on, and
# an exporting collector), zizmor and GitHub's schema on the workflows, hadolint on the
# Dockerfile. checkov's skip list, with reasons: .checkov.yaml and the objects' annotations.
SCAN_VENV := .venv-scan
RENDERED := build/rendered
$(SCAN_VENV)/.installed: requirements/scan.txt | $(UV)
	$(PY) -m venv $(SCAN_VENV)
	$(UV) pip install -q --python $(SCAN_VENV)/bin/python --no-deps --require-hashes -r requirements/scan.txt
	touch $@

scan: $(STAMP) $(SCAN_VENV)/.installed
	rm -rf $(RENDERED)
	$(BIN)/python -m rehearsal.twin.render -c scenario=blackfriday --out $(RENDERED)/blackfriday
	$(BIN)/python -m rehearsal.twin.render -c exporter=otlp -c otlpEndpoint=https://otlp.example.com:4318 \
		--out $(RENDERED)/otlp
	$(SCAN_VENV)/bin/checkov --quiet --compact --config-file .checkov.yaml -d $(RENDERED)
	$(SCAN_VENV)/bin/zizmor --offline --persona=pedantic .github/workflows
	$(SCAN_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(SCAN_VENV)/bin/hadolint Dockerfile

# The cluster twin: the real Pulumi CLI deploys Pulumi.demo.yaml to a local control plane whose one
# node runs the pods as processes (rehearsal/kube), at DEMO_MINUTE_SECONDS (default 10) per demo
# minute; same report and verdict as make demo. Needs the engine (make engine) and iptables.
twin: $(STAMP) engine system
	$(BIN)/bfdemo twin

calibrate: $(STAMP)
	$(BIN)/bfdemo calibrate

restore: $(STAMP)
	$(BIN)/bfdemo restore

plan: $(STAMP)
	$(BIN)/bfdemo plan blackfriday

# The services image's tag, from the content of what goes into it: a rebuilt image gets a new
# tag, so `pulumi up -c image=...` changes the pod templates and the pods roll (a reused :dev
# tag changes nothing Pulumi can see). See docs/kubernetes.md, "Rolling a rebuilt image".
image-tag:
	@find Dockerfile requirements/image.txt services scenarios -type f ! -name '*.pyc' | LC_ALL=C sort \
		| while read -r f; do echo "$$f"; cat "$$f"; done | sha256sum | cut -c1-12 | sed 's/^/bfdemo-services:/'

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(SCAN_VENV) .demo .twin bench/.work build
