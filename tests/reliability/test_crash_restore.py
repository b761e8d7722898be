"""kill -9 of the local runner in the degradation phase; `bfdemo restore` (and the next run)
bring the database back to the fresh schema's indexes, with no process or port left over."""

from __future__ import annotations

import os
import signal
import time

import pytest

from rehearsal.localpg import LocalPostgres
from rehearsal.processes import alive, cmdline, is_service, wait_for
from rehearsal.recovery import recover
from scenarios.model import Scenario
from tests.reliability.conftest import (
    MINUTE_SECONDS,
    DemoWorkdir,
    index_rows,
    invalid_indexes,
    listening_ports,
)

KILL_MINUTE = 16  # inside 'degradation' (15-20): indexes dropped, services under the scenario's config


def _started(workdir: DemoWorkdir) -> float | None:
    proc = workdir.procs[0]
    if proc.poll() is not None:
        pytest.fail(f"bfdemo demo exited early with {proc.returncode}:\n{workdir.output()}")
    if not workdir.crash_state_path.exists():
        return None
    try:
        start = workdir.crash_state().state.get("start_timestamp")
    except ValueError:  # the crash state is replaced atomically, but be lenient
        return None
    return float(start) if start else None


def _port_of(pid: int) -> int:
    args = cmdline(pid)
    return int(args[args.index("--port") + 1])


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kill_9_in_degradation_then_restore_returns_to_the_fresh_schema(
    demo_workdir: DemoWorkdir, scenario: Scenario, fresh_schema_indexes: list[tuple[str, str, str]],
) -> None:
    runner = demo_workdir.bfdemo("demo", "--minute-seconds", f"{MINUTE_SECONDS:g}", "--products", "30000")
    start = wait_for(lambda: _started(demo_workdir), timeout=150, interval=0.2,
                       what="the runner stamping minute 0 in its crash state")
    kill_at = start + KILL_MINUTE * MINUTE_SECONDS
    while time.time() < kill_at:  # the clock, not a guess: minute 16 begins at kill_at
        assert runner.poll() is None, demo_workdir.output()
        time.sleep(min(0.2, max(0.0, kill_at - time.time())))
    minute = (time.time() - start) / MINUTE_SECONDS
    assert scenario.phase_at(minute).name == "degradation", minute

    # What a crash leaves: the scenario applied, the services running on their ports.
    state = demo_workdir.crash_state().state
    pids = {name: int(pid) for name, pid in state["pids"].items()}
    pg_port = int(state["pg_port"])
    assert set(pids) == {"product-catalog", "cart", "checkout", "load-generator"}
    assert all(is_service(p) for p in pids.values()), pids
    ports = {name: _port_of(pid) for name, pid in pids.items()}
    assert set(ports.values()) | {pg_port} <= listening_ports()
    server = LocalPostgres(demo_workdir.pgdata, port=pg_port)  # the port the runner recorded
    assert server.is_running(), "pg_ctl cannot see the runner's server"
    present = {r[1] for r in index_rows(server.conninfo())}
    assert not present & set(scenario.dropped_indexes), "the scenario was not applied at minute 16"

    os.kill(runner.pid, signal.SIGKILL)
    runner.wait(10)
    assert runner.returncode == -signal.SIGKILL

    restored = demo_workdir.run("restore", timeout=180)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "invalid: none" in restored.stdout

    # No process, no port, no database left running.
    leftovers = [name for name, pid in pids.items() if alive(pid) and is_service(pid)]
    assert not leftovers, f"still running after restore: {leftovers}"
    still_listening = {name: port for name, port in ports.items() if port in listening_ports()}
    assert not still_listening, f"ports still listening after restore: {still_listening}"
    assert pg_port not in listening_ports(), "PostgreSQL still listens after restore"
    assert not server.is_running() and not (demo_workdir.pgdata / "postmaster.pid").exists()
    assert demo_workdir.crash_state().state.get("pids") == {}
    assert demo_workdir.crash_state().state.get("applied") is False

    # The database as restore left it: start it, look, change nothing.
    server.up()
    try:
        assert index_rows(server.conninfo()) == fresh_schema_indexes
        assert invalid_indexes(server.conninfo()) == []
    finally:
        server.stop()

    # And the next run starts clean: what `bfdemo demo` does first.
    pg = recover(demo_workdir.path, demo_workdir.crash_state(), scenario)
    try:
        assert index_rows(pg.conninfo()) == fresh_schema_indexes
        assert invalid_indexes(pg.conninfo()) == []
        assert not [p for p in pids.values() if is_service(p)]
    finally:
        pg.stop()
    assert not pg.is_running()
