"""The cluster twin: the Pulumi program rendered for a stack config under Pulumi's mocks, and
what it rendered run as processes on this machine, in the order `pulumi up` creates it: the
database (local PostgreSQL under the pod's CPU limit), the calibration Job and the Command that
reads its result (rendered again with it, as its stdout reaches the program), the seed Job,
the scenario's commands' own scripts (through the twin's kubectl), then the pods, their
readiness probes polled. The
scenario runs; the report and verdict are `make demo`'s; the restore is the rendered delete.

The collector is not run (no collector binary installs here): the services' OTLP endpoint is
the rehearsal's receiver, which evaluates the alert on their spans."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from rehearsal.cluster import follow_report, judge
from rehearsal.cpulimit import cpu_limit
from rehearsal.localpg import POSTGRES_BIN_PATH, LocalPostgres
from rehearsal.otlp import OtlpReceiver, make_receiver
from rehearsal.runner import RunOptions
from rehearsal.twin import kubectl
from rehearsal.twin.layout import image_tree
from rehearsal.twin.pods import pods, services
from rehearsal.twin.processes import Pods, localize
from rehearsal.twin.render import Run, render, stack_config
from scenarios.calibration import Calibration
from scenarios.catalogue import get_scenario
from services.ports import LOAD_GENERATOR, STOREFRONT

COMMAND = "pulumi-python:dynamic/command:Command"
# Rendered workloads the twin does not run, and why.
NOT_RUN = {
    "otel-collector": "no collector binary installs here: the services export to the rehearsal's receiver",
    "postgres": "the local PostgreSQL stands in for the image's server, under the pod's CPU limit",
    "auto-revert": "it waits the revert delay (an hour by default); tests/infra/test_revert.py runs its script",
}


@dataclass(frozen=True)
class TwinOptions:
    stack: Path
    workdir: Path
    report_path: Path
    overrides: dict[str, str] = field(default_factory=dict)  # as `pulumi up -c KEY=VALUE`
    duration_minutes: int | None = None


def _script(run: Run, suffix: str, field_: str) -> str:
    [cmd] = [r for r in run.of_type(COMMAND) if r.name.endswith(suffix)]
    return str(cmd.inputs[field_])


def _sh(script: str, env: dict[str, str]) -> str:
    """A Command's script, as local.Command runs it (/bin/sh -c); its stdout, as state keeps it."""
    result = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=1800,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"a Command failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return result.stdout


def _database(opts: TwinOptions, run: Run) -> LocalPostgres:
    postgres = pods(run)["postgres"]
    pg = LocalPostgres(opts.workdir / "pgdata", cpu=cpu_limit("bfdemo-twin-postgres", postgres.cpu_limit or "1")).up()
    # The image's entrypoint makes POSTGRES_USER a superuser owning POSTGRES_DB; local auth is trust.
    user = postgres.env["POSTGRES_USER"]
    pg.psql(f"DO $$ BEGIN CREATE ROLE {user} LOGIN SUPERUSER; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    return pg


def _kubectl_env(opts: TwinOptions, pg: LocalPostgres) -> dict[str, str]:
    kubectl.install(opts.workdir / "bin")
    return {**os.environ, "PATH": f"{opts.workdir / 'bin'}:{os.environ['PATH']}",
            "BFDEMO_TWIN_PSQL": str(POSTGRES_BIN_PATH / "psql"), "BFDEMO_TWIN_PG_PORT": str(pg.port),
            "BFDEMO_TWIN_PG_DB": pg.dbname, "BFDEMO_TWIN_STATEFULSETS": "postgres"}


def _calibrate(first: Run, running: Pods, addresses: dict[str, tuple[str, int]], env: dict[str, str]) -> str:
    """The calibration Job run to completion, and its result as the rendered Command reads it
    from the Job's log (through the twin's kubectl)."""
    job = pods(first)["calibration"]
    name = first.named("kubernetes:batch/v1:Job", "calibration").state["metadata"]["name"]
    print(f"Calibration Job {name} ...", flush=True)
    running.run_to_completion(job, localize(job.env, addresses, services(first)), timeout=1800)
    env["BFDEMO_TWIN_JOB_LOGS"] = f"{name}={running.logs / job.name}.log"
    return _sh(_script(first, "calibration-result", "create"), env).strip()


def run_twin(opts: TwinOptions) -> dict[str, Any]:
    opts.workdir.mkdir(parents=True, exist_ok=True)
    config, other = stack_config(opts.stack, opts.overrides)
    pg = _database(opts, render(config, other_config=other))
    receiver = make_receiver(None, None)
    shutil.rmtree(opts.workdir / "logs", ignore_errors=True)
    running = Pods(image_tree(opts.workdir / "image"), opts.workdir / "logs")
    env = _kubectl_env(opts, pg)
    addresses = {"postgres": ("127.0.0.1", pg.port), "otel-collector": receiver.address}
    try:
        _play(opts, config, other, pg, receiver, running, env, addresses)
        report = judge(opts.report_path, f"kubectl -n {config.get('namespace', 'ecommerce-demo')}", env)
        report["twin"]["calibration_leftovers"] = _calibration_leftovers(pg.conninfo())
    finally:
        pg.stop()
    opts.report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def _play(opts: TwinOptions, config: dict[str, str], other: dict[str, str], pg: LocalPostgres,
          receiver: OtlpReceiver, running: Pods, env: dict[str, str], addresses: dict[str, tuple[str, int]]) -> None:
    """Everything `pulumi up` would run, then the scenario followed and reported, then the
    rendered restore; the judging is the end-to-end workflow's (rehearsal.cluster)."""
    scenario = get_scenario(config["scenario"])
    minute_seconds = float(config.get("demoMinuteSeconds", 60))
    first = render(config, other_config=other)
    try:
        pg.psql("DROP TABLE IF EXISTS order_lines, orders, cart_items, carts, products CASCADE")
        measured = "" if config.get("calibration") else _calibrate(first, running, addresses, env)
        calibration = Calibration.from_json(measured or config["calibration"], "the twin's calibration")
        print(f"  {calibration.products:,} products | catalog {calibration.catalog_capacity_qps:.1f} listings/s | "
              f"hot row {calibration.lock_throughput_per_s:.2f} checkouts/s | {calibration.database_cpu}", flush=True)
        first = render(config, other_config=other, calibration=measured)
        print("Seed Job ...", flush=True)
        running.run_to_completion(pods(first)["catalog-seed"], localize(pods(first)["catalog-seed"].env, addresses,
                                                                         services(first)), timeout=1800)
        print("Scenario: break (the rendered create script) ...", flush=True)
        _sh(_script(first, "break-database", "create"), env)
        start = int(_sh(_script(first, "demo-clock", "create"), env).strip())
        stamped = render(config, other_config=other, clock=lambda: start, calibration=measured)
        rendered = pods(stamped)
        for name in (*STOREFRONT, LOAD_GENERATOR):
            running.start(rendered[name], localize(rendered[name].env, addresses, services(stamped)))
            addresses[name] = ("127.0.0.1", running.local_ports[name])
        for name in (*STOREFRONT, LOAD_GENERATOR):
            running.wait_ready(rendered[name])
        ready_after = round(time.time() - start, 1)  # a cluster loses the minutes its pods take
        follow_opts = RunOptions(scenario, opts.workdir, minute_seconds, opts.report_path,
                                 duration_minutes=opts.duration_minutes)
        # The end-to-end workflow's two steps (rehearsal.cluster): follow and report, then judge.
        follow_report(follow_opts, running.url(LOAD_GENERATOR), receiver, start, {
            "calibration": calibration.to_dict(), "twin": {
                "stack": str(opts.stack), "overrides": opts.overrides, "cpu_limits": running.limits,
                "not_run": {name: NOT_RUN.get(name, "unknown to the twin") for name in rendered
                            if name not in (*STOREFRONT, LOAD_GENERATOR, "catalog-seed", "calibration")},
                "clock_stamped_at": start, "pods_ready_s_after_minute_0": ready_after, "logs": str(running.logs)}})
    finally:
        running.stop_all()
        print("Scenario: restore (the rendered delete script) ...", flush=True)
        _sh(_script(first, "break-database", "delete"), env)
        receiver.stop()


def _calibration_leftovers(conninfo: str) -> dict[str, Any]:
    """What calibration could have left behind: its database, its orders in the demo's."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        databases = [str(r[0]) for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE '%\\_calibration'").fetchall()]
        orders = conn.execute("SELECT count(*) FROM orders WHERE customer_id LIKE 'calibration-%'").fetchone()
    return {"databases": databases, "orders": int(orders[0]) if orders else 0}
