"""Undoing what a run left behind, from its crash state: processes it started and the scenario it
applied. Used by `bfdemo restore` and at the start of every run, so a crash never persists."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from rehearsal.crashstate import CrashState
from rehearsal.database import IndexState, restore_database
from rehearsal.localpg import LocalPostgres
from scenarios.model import Scenario


def _is_our_service(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"services" in cmdline and b"-m" in cmdline


def kill_leftovers(crash: CrashState, grace: float = 10.0) -> list[int]:
    """Stop the service processes a crashed run recorded, and only those."""
    pids = [int(p) for p in crash.state.get("pids", {}).values() if _is_our_service(int(p))]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_is_our_service(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if _is_our_service(pid):
            os.killpg(pid, signal.SIGKILL)
    return pids


def recover(workdir: Path, crash: CrashState, scenario: Scenario) -> LocalPostgres:
    """Leave the database at baseline and no stray processes; returns the running server."""
    kill_leftovers(crash)
    pg = LocalPostgres(workdir / "pgdata").up()
    if pg.psql("SELECT to_regclass('products') IS NOT NULL").strip() == "t":
        restore_database(pg, scenario)
    if crash.state:
        crash.remember(applied=False, pids={})
    return pg


def restore(workdir: Path, scenario: Scenario) -> IndexState:
    """`bfdemo restore`: back to baseline after anything, then stop the database."""
    crash = CrashState.load(workdir / "crash-state.json")
    pg = recover(workdir, crash, scenario)
    try:
        return restore_database(pg, scenario)
    finally:
        pg.stop()
