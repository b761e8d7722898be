"""Session fixtures: one real embedded PostgreSQL with a small seeded catalog, and a way to
run any service under uvicorn on a real port with spans captured in memory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rehearsal.localpg import LocalPostgres
from rehearsal.processes import poll, wait_for
from services.seed import apply_schema, seed_catalog
from services.shared.config import ServiceSettings
from services.shared.telemetry import Telemetry, build_telemetry
from tests.servers import serve

TEST_PRODUCTS = 20_000
SCHEMA_INDEXES = ("idx_products_category", "idx_products_stock_quantity")


@pytest.fixture(scope="session")
def pg() -> Iterator[LocalPostgres]:
    # Outside pytest's basetemp: any other pytest session on the machine resets that to 0700,
    # and the unprivileged server user then loses its data directory mid-run.
    root = Path(tempfile.mkdtemp(prefix="bfdemo-tests-"))
    server = LocalPostgres(root / "data").up()
    seed_catalog(server.conninfo(), TEST_PRODUCTS)
    yield server
    server.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def db(pg: LocalPostgres) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection for arranging and inspecting state."""
    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        yield conn


@pytest.fixture
def restore_indexes(pg: LocalPostgres) -> Iterator[None]:
    """Tests that drop indexes get them back, whatever happens."""
    yield
    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        apply_schema(conn)


@dataclass
class RunningService:
    url: str
    spans: InMemorySpanExporter
    app: FastAPI

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def finished_spans(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def wait_spans(self, predicate: Callable[[ReadableSpan], bool], count: int = 1,
                   timeout: float = 10.0) -> list[ReadableSpan]:
        """Spans matching `predicate`, once at least `count` have ended. A server span ends just
        after its response is sent, so a client may hold the answer before the span exists."""
        return poll(lambda: [s for s in self.finished_spans() if predicate(s)],
                    lambda found: len(found) >= count, timeout, 0.01)


def wait_ready(url: str, timeout: float = 30.0) -> None:
    wait_for(lambda: httpx.get(f"{url}/ready", timeout=5).status_code == 200, timeout, interval=0.05,
             what=f"{url} answering /ready")


ServiceFactory = Callable[..., Any]


@pytest.fixture
def run_service(pg: LocalPostgres) -> Iterator[Callable[..., RunningService]]:
    """run_service(create_app, **settings) -> RunningService, stopped at teardown."""
    stack: list[Any] = []

    def start(create_app: ServiceFactory, metric_reader: Any = None, **overrides: Any) -> RunningService:
        env = {k.lower(): v for k, v in pg.env().items()}
        settings_cls = create_app.__globals__.get("Settings", ServiceSettings)
        settings = settings_cls(**{**env, "index_poll_seconds": 0.2, **overrides})
        exporter = InMemorySpanExporter()
        readers = [metric_reader] if metric_reader is not None else []
        telemetry: Telemetry = build_telemetry(settings.service_name, metric_readers=readers,
                                               span_processors=[SimpleSpanProcessor(exporter)])
        app = create_app(settings=settings, telemetry=telemetry)
        cm = serve(app)
        url = cm.__enter__()
        stack.append(cm)
        wait_ready(url)
        return RunningService(url, exporter, app)

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture
def hot_product(db):
    """A doorbuster with a known, small stock, restored afterwards."""
    before = db.execute("SELECT stock_quantity, stock_received FROM products WHERE id = 2").fetchone()
    db.execute("UPDATE products SET stock_quantity = 25, stock_received = stock_received - %s + 25 "
               "WHERE id = 2", [before[0]])
    yield 2
    db.execute("UPDATE products SET stock_quantity = %s, stock_received = %s WHERE id = 2", before)
