"""The connection pool, and the facts about queries that spans report.

`db.full_table_scan` and `db.missing_index` come from the database itself: the plan of each
query shape is EXPLAINed once per state of the index catalog, and the catalog (pg_indexes,
valid indexes only) is re-read every few seconds. `db.slow_query` is the measured duration
against a threshold. `db.connection.pool.exhausted` is a real PoolTimeout."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, Tracer
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout, TooManyRequests

from services.shared import attributes as attrs
from services.shared.config import ServiceSettings
from services.shared.logging import get_logger

log = get_logger("db")

VALID_INDEXES_SQL = """
SELECT c.relname FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname = 'products' AND i.indisvalid
"""


class PoolExhausted(Exception):
    """No pooled connection within DB_CONNECTION_TIMEOUT (or the wait queue was full)."""

    def __init__(self, waited_ms: float, detail: str) -> None:
        super().__init__(detail)
        self.waited_ms = waited_ms
        self.detail = detail


@dataclass(frozen=True)
class QueryShape:
    name: str
    sql: str
    # The index meant to serve this query's filter; its absence is what a DBA would fix.
    serving_index: str | None = None


@dataclass(frozen=True)
class PlanFacts:
    full_scan: bool
    missing_index: bool


def make_pool(settings: ServiceSettings) -> AsyncConnectionPool:
    # No psycopg client spans: every storefront query goes through QueryRunner, whose
    # `query <shape>` span carries the shape, measured duration and plan facts; a second span
    # per statement (plus BEGIN/COMMIT) doubled the spans and said nothing the demo reads.
    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.set_autocommit(False)

    return AsyncConnectionPool(
        settings.conninfo(),
        min_size=min(settings.db_min_connections, settings.db_max_connections),
        max_size=settings.db_max_connections,
        timeout=settings.db_connection_timeout,
        max_waiting=settings.db_max_waiting,
        # The pool keeps trying after a database restart instead of giving up for good.
        reconnect_timeout=3600,
        configure=configure,
        # No `check` on every borrow: under scan saturation that round trip waits for CPU outside
        # the pool timeout. A connection broken by a database restart fails its request once
        # (503 database_unavailable) and the pool discards it.
        kwargs={"row_factory": dict_row},
        name=settings.service_name,
        open=False,
    )


@asynccontextmanager
async def acquire(pool: AsyncConnectionPool) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A pooled connection; a real pool timeout becomes PoolExhausted, marked on the span."""
    span = trace.get_current_span()
    started = time.perf_counter()
    acquired = False
    try:
        async with pool.connection() as conn:
            acquired = True
            span.set_attribute("db.connection.pool.wait_ms", round(_ms_since(started), 2))
            yield conn
    except (PoolTimeout, TooManyRequests) as exc:
        if acquired:
            raise
        waited = _ms_since(started)
        attrs.mark_pool_exhausted(span)
        span.set_attribute("db.connection.pool.wait_ms", round(waited, 2))
        stats = pool.get_stats()
        log.warning(
            "demo_pool_exhaustion", waited_ms=round(waited, 1), pool=pool.name,
            pool_size=stats.get("pool_size"), pool_available=stats.get("pool_available"),
            requests_waiting=stats.get("requests_waiting"), error=type(exc).__name__,
        )
        raise PoolExhausted(waited, f"no database connection free after {waited / 1000:.1f} s") from exc


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _plan_scans_products(plan: Any) -> bool:
    node = plan.get("Plan", plan) if isinstance(plan, dict) else plan
    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == "products":
        return True
    return any(_plan_scans_products(child) for child in node.get("Plans", []))


@dataclass
class IndexCatalog:
    """Valid indexes on products, re-read on a dedicated connection every few seconds."""

    conninfo: str
    interval: float
    valid: frozenset[str] = frozenset()
    version: int = 0
    known: bool = False
    on_change: Callable[[frozenset[str]], None] | None = None  # the fault markers (services/shared/faults.py)

    def update(self, names: frozenset[str]) -> None:
        if not self.known or names != self.valid:
            self.valid, self.version, self.known = names, self.version + 1, True
            log.info("index_catalog_changed", valid_indexes=sorted(names))
            if self.on_change is not None:
                self.on_change(names)

    async def run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as c:
                    while True:
                        rows = await (await c.execute(VALID_INDEXES_SQL)).fetchall()
                        self.update(frozenset(r[0] for r in rows))
                        await asyncio.sleep(self.interval)
            except psycopg.OperationalError as exc:
                log.warning("index_catalog_unavailable", error=str(exc).strip())
                await asyncio.sleep(self.interval)


@dataclass
class QueryRunner:
    """Runs the storefront's query shapes, reporting measured facts on spans and in logs."""

    tracer: Tracer
    indexes: IndexCatalog
    slow_ms: float
    on_slow: Callable[[str, float], None] = lambda shape, ms: None
    plans: dict[tuple[str, int], PlanFacts] = field(default_factory=dict)

    async def facts(self, conn: psycopg.AsyncConnection[Any], shape: QueryShape, params: Any) -> PlanFacts:
        key = (shape.name, self.indexes.version)
        if key not in self.plans:
            cur = await conn.execute("EXPLAIN (FORMAT JSON) " + shape.sql, params)
            row = await cur.fetchone()
            raw = next(iter(row.values())) if isinstance(row, dict) else row[0]  # type: ignore[index]
            plan = json.loads(raw) if isinstance(raw, str) else raw
            scans = _plan_scans_products(plan[0])
            absent = shape.serving_index is not None and shape.serving_index not in self.indexes.valid
            self.plans = {k: v for k, v in self.plans.items() if k[1] == self.indexes.version}
            self.plans[key] = PlanFacts(full_scan=scans, missing_index=scans and absent)
        return self.plans[key]

    async def fetch(
        self, conn: psycopg.AsyncConnection[Any], shape: QueryShape, params: Any
    ) -> list[dict[str, Any]]:
        facts = await self.facts(conn, shape, params)
        outer = trace.get_current_span()
        # Not made the current span: nothing inside starts a child, and attaching and detaching
        # a context per query is CPU the benchmark charged to tracing.
        span = self.tracer.start_span(f"query {shape.name}")
        try:
            started = time.perf_counter()
            cur = await conn.execute(shape.sql, params)
            rows = await cur.fetchall() if cur.description else []
            elapsed = _ms_since(started)
            slow = attrs.mark_query(
                span, shape=shape.name, duration_ms=elapsed, slow_ms=self.slow_ms,
                full_scan=facts.full_scan, missing_index=facts.missing_index,
            )
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            span.end()
        # The request span carries the same facts, so the alert can match on server spans.
        for name, value in ((attrs.DB_SLOW_QUERY, slow), (attrs.DB_FULL_TABLE_SCAN, facts.full_scan),
                            (attrs.DB_MISSING_INDEX, facts.missing_index)):
            if value:
                outer.set_attribute(name, True)
        if slow:
            log.warning(
                "demo_slow_query_triggered", shape=shape.name, duration_ms=round(elapsed, 1),
                threshold_ms=self.slow_ms, full_table_scan=facts.full_scan,
                missing_index=facts.missing_index,
            )
            self.on_slow(shape.name, elapsed)
        return list(rows)  # type: ignore[arg-type]


# The server answered and refused these credentials: waiting will not change that.
REFUSED = ("password authentication failed", "no pg_hba.conf entry", "does not exist")


def wait_until_reachable(conninfo: str, timeout_s: float = 60.0) -> None:
    """Returns once the database accepts a connection; raises the last error after `timeout_s`,
    or at once when the server refuses the role, password or database (a rotated password
    fails a Job in seconds, with PostgreSQL's own sentence, instead of after the timeout).
    A Job started as soon as PostgreSQL turned Ready can still be refused for a moment: the
    Service routes to a pod only once its endpoints reach every node's proxy (measured on the
    rehearsal's real control plane: the calibration Job, started right after the StatefulSet's
    await, was refused and failed `pulumi up`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            psycopg.connect(conninfo, connect_timeout=5).close()
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() >= deadline or any(reason in str(exc) for reason in REFUSED):
                raise
            time.sleep(1.0)  # a retry interval, not a simulated delay
