"""A restore killed during CREATE INDEX CONCURRENTLY leaves an INVALID index; the next restore
repairs it. The wait is made deterministic by a session holding an old snapshot, and observed
in pg_stat_progress_create_index, never guessed with a sleep."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from typing import Any

import psycopg
import pytest

from rehearsal.database import restore_database
from rehearsal.localpg import POSTGRES_BIN_PATH, LocalPostgres
from rehearsal.processes import wait_for
from scenarios.model import Scenario
from scenarios.scripts import sql_text
from tests.reliability.conftest import SnapshotHolder, index_rows, invalid_indexes

FIRST_INDEX = "idx_products_category"  # restore.sql builds this one first


def _start_restore_psql(pg: LocalPostgres, scenario: Scenario, abort_when_client_dies: bool) -> subprocess.Popen[str]:
    """restore.sql fed to psql on stdin, as the runner and the Pulumi Command do."""
    env = dict(os.environ)
    if abort_when_client_dies:
        # The server polls the client socket while the statement runs, so the CREATE INDEX
        # ends when psql dies, as when a pod or a laptop running the restore goes away.
        env["PGOPTIONS"] = "-c client_connection_check_interval=100"
    proc = subprocess.Popen(
        [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1",
         "-p", str(pg.port), "-U", "postgres", "-d", pg.dbname],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write(sql_text(scenario.restore_sql))
    proc.stdin.close()
    return proc


def _waiting_build(db: psycopg.Connection[Any]) -> tuple[int, str] | None:
    """The backend building FIRST_INDEX, once it waits for the holder's old snapshot."""
    row = db.execute(
        "SELECT p.pid, p.phase FROM pg_stat_progress_create_index p "
        "WHERE p.relid = 'products'::regclass AND p.index_relid::regclass::text = %s "
        "AND p.phase = 'waiting for old snapshots'", [FIRST_INDEX]).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def _index_valid(db: psycopg.Connection[Any], name: str) -> bool | None:
    row = db.execute("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                     "WHERE c.relname = %s", [name]).fetchone()
    return None if row is None else bool(row[0])


def _products_indexes(fresh: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [r for r in fresh if r[0] == "products"]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_restore_killed_during_create_index_concurrently_is_repaired_by_the_next(
    pg: LocalPostgres, db: psycopg.Connection[Any], scenario: Scenario, indexes_dropped: None,
    snapshot_holder: SnapshotHolder, fresh_schema_indexes: list[tuple[str, str, str]],
) -> None:
    psql = _start_restore_psql(pg, scenario, abort_when_client_dies=True)
    try:
        backend, _ = wait_for(lambda: _waiting_build(db), timeout=30, interval=0.05,
                                what=f"CREATE INDEX CONCURRENTLY {FIRST_INDEX} waiting for the old snapshot")
        assert _index_valid(db, FIRST_INDEX) is False  # in the catalog, not yet usable
    finally:
        psql.send_signal(signal.SIGKILL)
        psql.wait(10)
    wait_for(lambda: db.execute("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = %s",
                                  [backend]).fetchone()[0],
               timeout=15, what="the build's backend ending after psql was killed")

    # What the interrupted restore left: an INVALID index, and the second one never started.
    snapshot_holder.release()
    assert _index_valid(db, FIRST_INDEX) is False
    assert invalid_indexes(pg.conninfo()) == [FIRST_INDEX]
    assert _index_valid(db, "idx_products_stock_quantity") is None

    state = restore_database(pg, scenario)
    assert state.restored(scenario) and state.invalid == ()
    assert invalid_indexes(pg.conninfo()) == []
    assert _index_valid(db, FIRST_INDEX) is True and _index_valid(db, "idx_products_stock_quantity") is True
    assert [r for r in index_rows(pg.conninfo()) if r[0] == "products"] == _products_indexes(fresh_schema_indexes)


ROUNDS = 20  # the race below is timing-dependent; each round takes well under a second


def _kill_restore_and_restore_again(pg: LocalPostgres, db: psycopg.Connection[Any], scenario: Scenario,
                                    holder: SnapshotHolder) -> tuple[str | None, list[str]]:
    """One round: restore.sql's build waits on `holder`; psql is killed (the build lives on,
    orphaned); a second restore starts and queues behind it; the holder ends. Returns the
    second restore's error, if any, and the invalid indexes it left."""
    psql = _start_restore_psql(pg, scenario, abort_when_client_dies=False)
    try:
        backend, _ = wait_for(lambda: _waiting_build(db), timeout=30, interval=0.02,
                                what=f"CREATE INDEX CONCURRENTLY {FIRST_INDEX} waiting for the old snapshot")
    finally:
        psql.send_signal(signal.SIGKILL)
        psql.wait(10)
    assert _index_valid(db, FIRST_INDEX) is False

    result: dict[str, Any] = {}

    def second_restore() -> None:
        try:
            result["state"] = restore_database(pg, scenario)
        except RuntimeError as exc:
            result["error"] = str(exc)

    thread = threading.Thread(target=second_restore, daemon=True)
    thread.start()
    wait_for(lambda: db.execute(
        "SELECT count(*) > 0 FROM pg_locks l WHERE NOT l.granted AND l.relation = 'products'::regclass "
        "AND l.pid <> %s", [backend]).fetchone()[0] or not thread.is_alive(), timeout=30, interval=0.02,
        what="the second restore queueing behind the orphaned build")
    holder.release()
    thread.join(60)
    assert not thread.is_alive(), "the second restore never finished"
    return result.get("error"), invalid_indexes(pg.conninfo())


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_restore_killed_while_its_build_lives_on_still_ends_at_baseline(
    pg: LocalPostgres, db: psycopg.Connection[Any], scenario: Scenario, indexes_dropped: None,
    fresh_schema_indexes: list[tuple[str, str, str]],
) -> None:
    """kill -9 of psql alone (PostgreSQL's default: no client check) orphans the build, which
    keeps its invalid index and its lock until the old snapshot goes away. A restore run
    meanwhile must still end at baseline, whatever the interleaving."""
    failures: list[str] = []
    for round_ in range(ROUNDS):
        holder = psycopg.connect(pg.conninfo())
        try:
            holder.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            holder.execute("SELECT count(*) FROM products WHERE id < 10").fetchone()
            error, invalid = _kill_restore_and_restore_again(
                pg, db, scenario, SnapshotHolder(holder, holder.info.backend_pid))
        finally:
            holder.close()
        if error or invalid:
            failures.append(f"round {round_}: {error or ''} invalid={invalid}")
        # Back to 'scenario applied' for the next round (a failed restore is repaired first).
        restore_database(pg, scenario)
        pg.psql(sql_text(scenario.break_sql))
    restore_database(pg, scenario)
    assert not failures, "a restore racing an orphaned build did not end at baseline:\n" + "\n".join(failures)
    assert invalid_indexes(pg.conninfo()) == []
    assert [r for r in index_rows(pg.conninfo()) if r[0] == "products"] == _products_indexes(fresh_schema_indexes)
