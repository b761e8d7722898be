"""The local rehearsal: the same services, config values and SQL as the Pulumi program, on
embedded PostgreSQL. Always restores: at the end, on Ctrl-C or SIGTERM, and (through the
crash state) after a crash, by `bfdemo restore` or the next run."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from rehearsal.calibrate import calibrate_here
from rehearsal.console import alert_line, minute_line
from rehearsal.crashstate import CrashState
from rehearsal.database import IndexState, break_database, restore_database
from rehearsal.localpg import LocalPostgres, free_port
from rehearsal.otlp import OtlpReceiver, make_receiver
from rehearsal.processes import poll
from rehearsal.prometheus import LocalPrometheus, alert_record, panel_record, start_prometheus
from rehearsal.recovery import recover
from rehearsal.report import preload_chart, span_view, stock_accounting, write_report
from rehearsal.stack import LocalStack
from scenarios.calibration import Calibration
from scenarios.model import Scenario
from services.ports import LOAD_GENERATOR, STOREFRONT
from services.seed import seed_catalog

# From stamping the clock to minute 0 the four services start at once. A generator ready late
# skips the arrivals already due, so the lead is sized from the two-service start calibration
# timed on this machine: four services on the same cores do twice the work, and 3x leaves half
# of it again as margin. What does not shrink with faster imports (Prometheus starting beside
# them, the sessions, the first index read) gets seconds of its own: with bytecode the four took
# 2.8x the two (4.0 s against 1.44 s, docs/runs.md run 10), 2.2-2.4x without.
LEAD_PER_SERVICES_START = 3.0
LEAD_FIXED_SECONDS = 1.5
MIN_LEAD_SECONDS = 4.0
UNMEASURED_LEAD_SECONDS = 9.0  # a calibration that did not time its services
# The longest a journey can still run after the timeline: its checkout's lock wait (30 s), the
# pool timeout, and the think time after it; the generator's request timeout (60 s) bounds it.
DRAIN_SECONDS = 75.0
# How long the services batch their spans before posting them (OpenTelemetry's default is 5 s).
# Each post costs the same few hundred microseconds of HTTP however many spans it carries: at
# 500 ms the posts were a sixth of what tracing costs the services (docs/performance.md). The
# minute lines wait this long on top of their grace; the verdict reads spans after the services'
# shutdown, which posts what is left.
SPAN_EXPORT_DELAY_MS = 2000
SHUTDOWN_GRACE_SECONDS = 2


@dataclass(frozen=True)
class RunOptions:
    scenario: Scenario
    workdir: Path
    minute_seconds: float
    report_path: Path
    products: int | None = None  # overrides the calibrated catalog size (tests)
    duration_minutes: int | None = None
    # Rehearse a stretch of the timeline: the clock is stamped this many demo minutes in the
    # past, so the run joins at this minute, as a load generator restarted mid-demo would.
    from_minute: int = 0


def _raise_on_sigterm() -> None:
    def handler(signum: int, _: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)


def ensure_calibration(pg: LocalPostgres, workdir: Path, scenario: Scenario, crash: CrashState) -> Calibration:
    path = workdir / "calibration.json"
    if path.exists():
        saved = Calibration.from_json(path.read_text(), str(path))
        if not saved.database_cpu or pg.cpu is None or pg.cpu.summary() in saved.database_cpu:
            if not saved.database_cpu:
                print(f"  {path} does not say under which CPU limit it was measured; "
                      "`bfdemo calibrate` measures again", flush=True)
            return saved
        print(f"  {path} was measured with {saved.database_cpu}; the database now runs with "
              f"{pg.cpu.summary()}: measuring again", flush=True)
    with crash.step("calibrate") as step:
        print(f"Calibrating this machine (once; saved to {path}) ...", flush=True)
        result = calibrate_here(pg, scenario, demo_catalog=True)  # seeds the demo's catalog too
        path.write_text(result.to_json())
        step.detail = result.to_json()
    print(f"  catalog {result.products:,} products | catalog capacity {result.catalog_capacity_qps:.1f}"
          f" listings/s | hot-row lock {result.lock_throughput_per_s:.2f} checkouts/s\n  {result.database_cpu}",
          flush=True)
    return result


def ensure_catalog(pg: LocalPostgres, products: int, scenario: Scenario) -> None:
    # Nothing to do after a calibration, which left its catalog of that size here.
    seed_catalog(pg.conninfo(), products, scenario.doorbusters, resize=True)


def lead_seconds(calibration: Calibration) -> float:
    """Seconds from stamping minute 0 to minute 0."""
    if calibration.services_start_s <= 0:
        return UNMEASURED_LEAD_SECONDS
    lead = LEAD_FIXED_SECONDS + LEAD_PER_SERVICES_START * calibration.services_start_s
    return round(max(MIN_LEAD_SECONDS, lead), 1)


def _env(opts: RunOptions, receiver: OtlpReceiver, calibration: Calibration, start: float) -> dict[str, str]:
    return {
        **opts.scenario.config_values(scenario_active=True),
        "DEMO_START_TIMESTAMP": f"{start:.3f}",
        "DEMO_MINUTE_SECONDS": f"{opts.minute_seconds:g}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": str(SPAN_EXPORT_DELAY_MS),
        "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        # The services stop once every counted request has answered: what is still in flight
        # then counts nowhere, and waiting for it held the restore up to 8 s (run 8, docs/runs.md).
        "SHUTDOWN_GRACE_SECONDS": str(SHUTDOWN_GRACE_SECONDS),
        "CALIBRATION_JSON": calibration.to_json(),
        "LOADGEN_BASELINE": "false",
        **({"LOADGEN_DURATION_MINUTES": str(opts.duration_minutes)} if opts.duration_minutes else {}),
    }


def _status(loadgen: str) -> dict[str, Any] | None:
    try:
        return httpx.get(f"{loadgen}/admin/demo-status", timeout=20).json()  # type: ignore[no-any-return]
    except httpx.HTTPError as exc:
        print(f"  (the load generator did not answer its status: {type(exc).__name__})", flush=True)
        return None


def follow(opts: RunOptions, loadgen: str, receiver: OtlpReceiver, start: float,
           drain: bool = True) -> list[dict[str, Any]]:
    """Print each demo minute once its slow requests have had time to answer; return the
    generator's per-minute records, re-read after the last answers came in (`drain`: once
    no journey is in flight, for a generator that stops at the end of what is followed)."""
    scenario, minutes = opts.scenario, opts.duration_minutes or opts.scenario.duration_minutes
    # Requests of a minute finish up to a pool timeout plus a scan later: wait for them.
    grace = min(max(2.0, opts.minute_seconds), 20.0) + SPAN_EXPORT_DELAY_MS / 1000
    fired: int | None = None
    records: list[dict[str, Any]] = []
    for minute in range(opts.from_minute, minutes):
        ends = start + (minute + 1) * opts.minute_seconds
        if drain and minute == minutes - 1:
            # The last minute waits for exactly its own answers, not a fixed grace (10 s of
            # every fresh clone's first verdict, measured).
            time.sleep(max(0.0, ends - time.time()))
            status = _drained(loadgen, DRAIN_SECONDS)
        else:
            time.sleep(max(0.0, ends + grace - time.time()))
            status = _status(loadgen)
        records = status["minutes"] if status else records
        record = next((r for r in records if r["minute"] == minute), None)
        if record is None:
            continue
        server, alert = span_view(scenario, receiver.store.snapshot(), minute)
        print(minute_line(scenario, record, server[minute]), flush=True)
        if alert["fired"] and fired is None:
            fired = alert["first_minute"]
            print(alert_line(scenario, fired), flush=True)
    if drain:
        return records
    status = _status(loadgen)
    return status["minutes"] if status else records


def _drained(loadgen: str, timeout: float) -> dict[str, Any] | None:
    """The generator's status once every request the minutes count has answered: a checkout
    still waiting on the row lock when the timeline ends has not been counted yet, and leaving
    it out would bias the last minutes' failure rate down (measured: a quarter of the 10-second
    minutes' checkouts were missing). Journeys' steps after the timeline count nowhere and are
    not waited for. Bounded, so a stuck request cannot hold the report."""
    return poll(lambda: _status(loadgen), lambda s: not (s and s.get("in_flight_counted_requests")), timeout, 0.25)


def ready_after_joined_minute(ready: float, start: float, from_minute: int, minute_seconds: float) -> float:
    """Seconds from the first demo minute the run follows to the generator's readiness;
    negative: ready before it, so no arrival was missed."""
    return round(ready - (start + from_minute * minute_seconds), 1)


def _stop_and_restore(stack: LocalStack, pg: LocalPostgres, scenario: Scenario) -> tuple[IndexState, dict[str, float]]:
    """The services stop, then the indexes come back, while the report's chart module is
    imported. In turn: the stopping storefront still finishes its scans in flight, and a
    restore beside them shares the database's CPU with them (slower for both, measured).
    Also returns the seconds each took, for the report."""
    with ThreadPoolExecutor(max_workers=1) as threads:
        threads.submit(preload_chart)
        began = time.monotonic()
        stack.stop_all()
        stopped = time.monotonic()
        state = restore_database(pg, scenario)
        return state, {"stop_s": round(stopped - began, 1), "restore_s": round(time.monotonic() - stopped, 1)}


def run_demo(opts: RunOptions) -> dict[str, Any]:
    _raise_on_sigterm()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    crash = CrashState.load(opts.workdir / "crash-state.json")
    pg = recover(opts.workdir, crash, opts.scenario)  # undo whatever a crashed run left
    crash = CrashState(opts.workdir / "crash-state.json", opts.scenario.name)
    crash.remember(pg_port=pg.port, applied=False, pids={})
    calibration = ensure_calibration(pg, opts.workdir, opts.scenario, crash)
    with crash.step("seed catalog"):
        ensure_catalog(pg, opts.products or calibration.products, opts.scenario)
    receiver = make_receiver(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"),
                             os.environ.get("OTEL_EXPORTER_OTLP_HEADERS"))
    stack = LocalStack(opts.workdir, pg)
    records: list[dict[str, Any]] = []
    ready_after: float | None = None
    start: float | None = None
    lead = lead_seconds(calibration)
    prometheus: LocalPrometheus | None = None
    try:
        with crash.step("apply scenario"):
            crash.remember(applied=True)
            break_database(pg, opts.scenario)
            # Minute 0 is stamped ahead of time, as `pulumi up` stamps it before pods roll.
            start = time.time() + lead - opts.from_minute * opts.minute_seconds
            env = _env(opts, receiver, calibration, start)
            # All four start at once, as a cluster's pods roll: their ports are known at launch,
            # and the generator sends nothing before minute 0.
            stack.start_storefront(env)
            # The page asks this Prometheus for the shipped rule's state (it starts just after).
            prometheus_port = free_port()
            stack.start("load-generator", {**stack.service_env(env),
                                           "PROMETHEUS_URL": f"http://127.0.0.1:{prometheus_port}"})
            stack.wait_ready([*STOREFRONT, "load-generator"])
            print(f"Live page for the room: {stack.url('load-generator')}/", flush=True)
            # Negative: the generator was ready before minute 0 and missed no arrival.
            ready_after = ready_after_joined_minute(time.time(), start, opts.from_minute, opts.minute_seconds)
            crash.remember(pids=stack.pids(), start_timestamp=start)
            scraped = (*STOREFRONT, LOAD_GENERATOR)  # the generator too: the dashboard's journeys are its metrics
            prometheus = start_prometheus(opts.workdir / "prometheus", opts.scenario, opts.minute_seconds,
                                          {name: f"127.0.0.1:{stack.ports[name]}" for name in scraped},
                                          prometheus_port)
        with crash.step("run timeline"):
            records = follow(opts, stack.url("load-generator"), receiver, start)
    finally:
        queried = time.monotonic()
        panels = panel_record(prometheus, opts.scenario, opts.minute_seconds, start)  # before alert_record stops it
        alerting = {**alert_record(prometheus, start), "panels": panels}
        seconds = {"prometheus_s": round(time.monotonic() - queried, 1)}
        with crash.step("restore"):
            state, stopping = _stop_and_restore(stack, pg, opts.scenario)
            crash.remember(applied=False, pids={})
        receiver.stop()
        stock = stock_accounting(pg.conninfo())
        pg.stop()
    return write_report(opts.scenario, opts.minute_seconds, opts.report_path, records, receiver.store.snapshot(), {
        "restore": {"indexes_restored": state.restored(opts.scenario), "invalid_indexes": list(state.invalid)},
        "finish": {**seconds, **stopping},  # seconds from the last answer to the restored database
        "calibration": calibration.to_dict(),
        "startup": {"lead_s": lead, "loadgen_ready_s_after_minute_0": ready_after},
        "prometheus": alerting,
        "stock": stock,
        "crash_state": str(crash.path),
        **({"forwarded": receiver.forwarder.summary()} if receiver.forwarder else {}),
        **({"from_minute": opts.from_minute} if opts.from_minute else {}),
    })
