"""Undoing what a run left behind, from its crash state: processes it started and the scenario it
applied. Used by `bfdemo restore` and at the start of every run, so a crash never persists."""

from __future__ import annotations

from pathlib import Path

from rehearsal.cpulimit import database_cpu
from rehearsal.crashstate import CrashState
from rehearsal.database import IndexState, restore_database
from rehearsal.localpg import LocalPostgres
from rehearsal.processes import is_service, stop_pids
from scenarios.model import Scenario


def kill_leftovers(crash: CrashState, grace: float = 10.0) -> list[int]:
    """Stop the service processes a crashed run recorded, and only those: a recorded pid
    reused by another program is left alone."""
    pids = [int(p) for p in crash.state.get("pids", {}).values() if is_service(int(p))]
    stop_pids(pids, grace)
    return pids


def recover(workdir: Path, crash: CrashState, scenario: Scenario) -> LocalPostgres:
    """Leave the database at baseline and no stray processes; returns the running server."""
    kill_leftovers(crash)
    pg = LocalPostgres(workdir / "pgdata", cpu=database_cpu(workdir / "pgdata")).up()
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
