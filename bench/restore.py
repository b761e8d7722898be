"""Break and restore at the calibrated catalog size.

Times the scenario's break (DROP INDEX) and its restore (CREATE INDEX CONCURRENTLY, fed to psql
as the Pulumi Command does) against the physical floor: the same two indexes built with a plain
CREATE INDEX on the same table. A writer keeps updating products during the restore and during
the floor: CONCURRENTLY lets its writes through, a plain build (SHARE lock) holds them until it
ends. The restore is also timed once without the writer, as the writer competes for the CPU.
The database is left restored (both indexes valid) whatever happens."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.context import BenchContext
from bench.openloop import ratio
from rehearsal.database import break_database, index_state, restore_database

# A receipt of one unit: on hand and received move together, so the stock stays balanced.
WRITE_SQL = "UPDATE products SET stock_quantity = stock_quantity + 1, stock_received = stock_received + 1 WHERE id = %s"


@dataclass
class WriterStats:
    ok: int = 0
    failed: int = 0
    longest_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    def figures(self, during: str) -> dict[str, Any]:
        return {f"writes_during_{during}_ok": self.ok, f"writes_during_{during}_failed": self.failed,
                f"longest_write_during_{during}_ms": round(self.longest_s * 1000, 1),
                f"write_errors_during_{during}": list(self.errors)}


def _write_loop(conninfo: str, max_id: int, running: threading.Event, stop: threading.Event,
                stats: WriterStats) -> None:
    """Update products in a fixed id sequence (a stride through the catalog), as fast as it can."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        running.set()
        k = 0
        while not stop.is_set():
            product_id = 1 + (k * 7919) % max_id
            k += 1
            started = time.perf_counter()
            try:
                conn.execute(WRITE_SQL, [product_id])
                stats.ok += 1
            except psycopg.Error as exc:
                stats.failed += 1
                if len(stats.errors) < 3:
                    stats.errors.append(f"{type(exc).__name__}: {str(exc).strip()[:200]}")
                if conn.broken:
                    return
            stats.longest_s = max(stats.longest_s, time.perf_counter() - started)


@contextmanager
def writer(conninfo: str, max_id: int) -> Iterator[WriterStats]:
    """A writer on its own thread and connection for the duration of the with-block."""
    stats, running, stop = WriterStats(), threading.Event(), threading.Event()
    thread = threading.Thread(target=_write_loop, args=(conninfo, max_id, running, stop, stats), daemon=True)
    thread.start()
    try:
        if not running.wait(30):
            raise RuntimeError("the writer could not connect within 30 s")
        yield stats
    finally:
        stop.set()
        thread.join()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _max_id(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT max(id) FROM products").fetchone()
    if row is None or row[0] is None:
        raise RuntimeError("the catalog is empty")
    return int(row[0])


def _plain_definitions(ctx: BenchContext) -> list[str]:
    """The dropped indexes' definitions as pg_indexes shows them (plain CREATE INDEX)."""
    state = index_state(ctx.pg.conninfo())
    if not state.restored(ctx.scenario):
        state = restore_database(ctx.pg, ctx.scenario)
    return [state.definitions[name] for name in ctx.scenario.dropped_indexes]


def _measure(ctx: BenchContext, definitions: list[str], max_id: int) -> dict[str, Any]:
    pg, scenario, conninfo = ctx.pg, ctx.scenario, ctx.pg.conninfo()
    break_s = timed(lambda: break_database(pg, scenario))
    quiet_s = timed(lambda: restore_database(pg, scenario))
    break_database(pg, scenario)
    with writer(conninfo, max_id) as during_restore:
        restore_s = timed(lambda: restore_database(pg, scenario))
    break_database(pg, scenario)
    floor_sql = "".join(f"{d};\n" for d in definitions)
    with writer(conninfo, max_id) as during_floor:
        floor_s = timed(lambda: pg.psql(floor_sql))
    return {
        "break_s": round(break_s, 3), "restore_s": round(restore_s, 3), "floor_s": round(floor_s, 3),
        "restore_over_floor": ratio(restore_s, floor_s),
        "restore_quiet_s": round(quiet_s, 3), "restore_quiet_over_floor": ratio(quiet_s, floor_s),
        **during_restore.figures("restore"),
        **during_floor.figures("floor"),
    }


def restore_or_fail(ctx: BenchContext) -> None:
    """The scenario's restore; an error unless both indexes are back and valid."""
    state = restore_database(ctx.pg, ctx.scenario)
    if not state.restored(ctx.scenario):
        missing = [n for n in ctx.scenario.dropped_indexes if n not in state.definitions]
        raise RuntimeError(f"indexes not restored: missing {missing}, invalid {list(state.invalid)}")


def run(ctx: BenchContext) -> dict[str, Any]:
    max_id = _max_id(ctx.pg.conninfo())
    try:
        definitions = _plain_definitions(ctx)
        figures = _measure(ctx, definitions, max_id)
    finally:
        restore_or_fail(ctx)
    return {"products": max_id, "indexes": list(ctx.scenario.dropped_indexes), **figures,
            "indexes_restored": True}
