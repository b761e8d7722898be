"""Fixtures of the reliability suite: rehearsal workdirs with a pre-written calibration, a
dedicated PostgreSQL that may be stopped mid-test, a fresh-schema baseline to compare index
definitions against, a snapshot holder that makes CREATE INDEX CONCURRENTLY wait, and named
invalid inputs. Every process and server a fixture starts is stopped by its finalizer, even
when the test fails."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

from rehearsal.crashstate import CrashState
from rehearsal.database import restore_database
from rehearsal.localpg import LocalPostgres
from rehearsal.processes import cmdline, is_service
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.calibration import Calibration
from scenarios.model import Scenario
from scenarios.scripts import sql_text
from services.seed import seed_catalog, storefront_sql

REPO = Path(__file__).resolve().parents[2]
DEMO_PRODUCTS = 30_000
MINUTE_SECONDS = 2.0
# Deliberately modest capacities: the suite shares two cores, and the point here is what is
# left behind, not how hard the database is pushed.
CALIBRATION = Calibration(products=DEMO_PRODUCTS, catalog_capacity_qps=4.0, lock_throughput_per_s=2.0,
                          measured_at="reliability-suite", machine="pre-written")

ALL_INDEXES_SQL = ("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                   "ORDER BY tablename, indexname")


# --- small probes of real state -------------------------------------------------------------


def listening_ports() -> set[int]:
    """TCP ports in LISTEN state on this host (IPv4 and IPv6)."""
    return {c.laddr.port for c in psutil.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}


def index_rows(conninfo: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute(ALL_INDEXES_SQL).fetchall()]  # type: ignore[misc]


def invalid_indexes(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid ORDER BY 1").fetchall()]


def data_checksums(conninfo: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of every row of the tables a break/restore must never touch."""
    out: dict[str, tuple[int, str]] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table, key in (("products", "id"), ("orders", "id"), ("order_lines", "order_id, product_id")):
            row = conn.execute(f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY {key})), '') "
                               f"FROM {table} t").fetchone()
            assert row is not None
            out[table] = (int(row[0]), str(row[1]))
    return out


def stock_ledger(conninfo: str) -> dict[str, int]:
    """Recomputed here, independently of the runner's own accounting."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("""
            SELECT
              (SELECT count(*) FROM products p
                 LEFT JOIN (SELECT product_id, sum(quantity) AS sold FROM order_lines GROUP BY 1) s
                   ON s.product_id = p.id
                WHERE p.stock_quantity + coalesce(s.sold, 0) <> p.stock_received),
              (SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)),
              (SELECT count(*) FROM orders o WHERE o.total <> (SELECT coalesce(sum(l.quantity * l.unit_price), 0)
                                                               FROM order_lines l WHERE l.order_id = o.id)),
              (SELECT count(*) FROM orders),
              (SELECT coalesce(sum(quantity), 0) FROM order_lines)
        """).fetchone()
    assert row is not None
    return {"unbalanced_products": row[0], "orders_without_lines": row[1], "orders_with_wrong_total": row[2],
            "orders": row[3], "units_sold": row[4]}


# --- baselines -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fresh_schema_indexes(pg: LocalPostgres) -> list[tuple[str, str, str]]:
    """pg_indexes of a brand-new database where only sql/schema.sql was applied."""
    name = "reliability_fresh_schema"
    pg.psql(f"DROP DATABASE IF EXISTS {name}", db="postgres")
    pg.psql(f"CREATE DATABASE {name}", db="postgres")
    try:
        pg.psql(storefront_sql("schema.sql"), db=name)
        return index_rows(pg.conninfo(name))
    finally:
        pg.psql(f"DROP DATABASE IF EXISTS {name}", db="postgres")


@pytest.fixture
def scenario() -> Scenario:
    return BLACKFRIDAY


# --- the session database, arranged ------------------------------------------------------------


@pytest.fixture
def baseline_restored(pg: LocalPostgres, scenario: Scenario) -> Iterator[None]:
    """Whatever a test does to the session database's indexes, it leaves them at baseline
    (invalid leftovers included) for the tests after it."""
    yield
    state = restore_database(pg, scenario)
    assert not state.invalid, f"could not return the session database to baseline: {state}"


@pytest.fixture
def indexes_dropped(pg: LocalPostgres, scenario: Scenario, baseline_restored: None) -> None:
    pg.psql(sql_text(scenario.break_sql))
    present = {r[1] for r in index_rows(pg.conninfo())}
    assert not present & set(scenario.dropped_indexes), "break.sql did not drop the indexes"


@dataclass
class SnapshotHolder:
    """A session inside a REPEATABLE READ transaction that has taken its snapshot: every
    CREATE INDEX CONCURRENTLY started after it must wait for it ('waiting for old snapshots')."""

    conn: psycopg.Connection[Any]
    backend_pid: int

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()


@pytest.fixture
def snapshot_holder(pg: LocalPostgres) -> Iterator[SnapshotHolder]:
    conn = psycopg.connect(pg.conninfo())
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    conn.execute("SELECT count(*) FROM products WHERE id < 10").fetchone()
    pid = conn.info.backend_pid
    try:
        yield SnapshotHolder(conn, pid)
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        conn.close()


# --- a dedicated server that a test may stop and start ------------------------------------------


def stop_server(pgdata: Path) -> None:
    """Stop the server of `pgdata`, even if pg_ctl cannot tell it runs: then its postmaster,
    named in postmaster.pid, gets SIGQUIT (immediate shutdown) and is waited for."""
    if (pgdata / "PG_VERSION").exists():
        server = LocalPostgres(pgdata)
        if server.is_running():
            server.stop("immediate")
    pid_file = pgdata / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        if "postgres" in " ".join(cmdline(pid)):
            os.kill(pid, signal.SIGQUIT)
            psutil.wait_procs([psutil.Process(pid)], timeout=30)


@pytest.fixture
def private_dir() -> Iterator[Path]:
    """A directory outside pytest's basetemp. Any pytest session that starts on this machine
    resets /tmp/pytest-of-<user> to mode 0700, after which the unprivileged PostgreSQL user
    can no longer reach data directories below it (`pg_ctl status` then says 'not running')."""
    path = Path(tempfile.mkdtemp(prefix="bfdemo-reliability-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def dedicated_pg(private_dir: Path) -> Iterator[LocalPostgres]:
    """Its own embedded PostgreSQL with a small catalog: stopping it disturbs no other test."""
    server = LocalPostgres(private_dir / "pgdata")
    try:
        server.up()
        seed_catalog(server.conninfo(), 2_000)
        yield server
    finally:
        stop_server(server.pgdata)


# --- rehearsal workdirs -------------------------------------------------------------------------


@dataclass
class DemoWorkdir:
    path: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def crash_state_path(self) -> Path:
        return self.path / "crash-state.json"

    @property
    def pgdata(self) -> Path:
        return self.path / "pgdata"

    def crash_state(self) -> CrashState:
        return CrashState.load(self.crash_state_path)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update({"DEMO_WORKDIR": str(self.path), "PYTHONUNBUFFERED": "1"})
        return env

    def bfdemo(self, *args: str) -> subprocess.Popen[bytes]:
        """`bfdemo ARGS` as its own process group, output to <workdir>/bfdemo-<command>.log."""
        log = open(self.path / f"bfdemo-{args[0]}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "rehearsal.cli", *args], cwd=REPO, env=self.env(),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rehearsal.cli", *args], cwd=REPO, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.path.glob("bfdemo-*.log")))

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if self.crash_state_path.exists():
            for pid in self.crash_state().state.get("pids", {}).values():
                if is_service(int(pid)):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(int(pid), signal.SIGKILL)
        stop_server(self.pgdata)


@pytest.fixture
def demo_workdir(private_dir: Path) -> Iterator[DemoWorkdir]:
    """An empty DEMO_WORKDIR with calibration.json already written, so no run calibrates."""
    workdir = DemoWorkdir(private_dir / "demo")
    workdir.path.mkdir(parents=True, exist_ok=True)
    (workdir.path / "calibration.json").write_text(CALIBRATION.to_json())
    try:
        yield workdir
    finally:
        workdir.cleanup()


@pytest.fixture
def sigterm_handler_kept() -> Iterator[None]:
    """run_demo installs its own SIGTERM handler; give pytest its own back afterwards."""
    before = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, before)


# --- named invalid inputs -------------------------------------------------------------------------


@pytest.fixture
def missing_authorization() -> dict[str, str]:
    return {}


@pytest.fixture
def empty_bearer() -> dict[str, str]:
    return {"Authorization": "Bearer"}  # the scheme alone (httpx refuses trailing spaces)


@pytest.fixture
def token_as_basic() -> dict[str, str]:
    return {"Authorization": "Basic s3cret-token"}


@pytest.fixture
def token_without_scheme() -> dict[str, str]:
    return {"Authorization": "s3cret-token"}


@pytest.fixture
def token_prefix_only() -> dict[str, str]:
    return {"Authorization": "Bearer s3cret"}


@pytest.fixture
def token_with_suffix() -> dict[str, str]:
    return {"Authorization": "Bearer s3cret-token2"}


@pytest.fixture
def token_wrong_case() -> dict[str, str]:
    return {"Authorization": "Bearer S3CRET-TOKEN"}


@pytest.fixture
def checkout_both_sources() -> dict[str, Any]:
    return {"customer_id": "c", "cart_id": "00000000-0000-0000-0000-000000000001",
            "items": [{"product_id": 5, "quantity": 1}]}


@pytest.fixture
def checkout_duplicate_lines() -> dict[str, Any]:
    return {"customer_id": "c", "items": [{"product_id": 5, "quantity": 1}, {"product_id": 5, "quantity": 2}]}


@pytest.fixture
def checkout_zero_quantity() -> dict[str, Any]:
    return {"customer_id": "c", "items": [{"product_id": 5, "quantity": 0}]}


@pytest.fixture
def checkout_huge_product_id() -> dict[str, Any]:
    return {"customer_id": "c", "items": [{"product_id": 2**63, "quantity": 1}]}


@pytest.fixture
def checkout_body_is_a_list() -> list[Any]:
    return [{"customer_id": "c"}]


# Requests the framework itself rejects, before any handler of ours runs: (method, path, body, headers).


@pytest.fixture
def body_not_utf8() -> tuple[str, str | None, bytes, dict[str, str]]:
    return "POST", None, b'{"customer_id": "\xff"}', {"Content-Type": "application/json"}


@pytest.fixture
def unknown_path() -> tuple[str, str | None, bytes, dict[str, str]]:
    return "GET", "/no-such-page", b"", {}


@pytest.fixture
def wrong_method() -> tuple[str, str | None, bytes, dict[str, str]]:
    return "PUT", None, b"{}", {"Content-Type": "application/json"}
