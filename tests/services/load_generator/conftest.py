"""Fixtures for the load generator: a tiny fake storefront on a real port whose latency the
test sets (real asyncio waits: it is a test target, not the product), and the load generator
itself under uvicorn on a real port, with its spans captured in memory."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.load_generator.config import Settings
from services.load_generator.controller import DemoController
from services.load_generator.main import create_app
from services.shared.telemetry import build_telemetry

CATEGORIES = ["electronics/sub00", "toys/sub01", "garden/sub02"]
DOORBUSTERS = [{"id": i, "name": f"Deal {i}", "category": "electronics/sub00", "price": "199.99",
                "stock_quantity": 100000, "is_doorbuster": True} for i in (1, 2, 3)]


def _product(pid: int) -> dict[str, Any]:
    return {"id": pid, "name": f"Item {pid}", "category": "toys/sub01", "price": "10.00",
            "stock_quantity": 50, "is_doorbuster": False}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Seen:
    """One request as the fake storefront received it."""

    at: float
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeStorefront:
    url: str
    latency: float = 0.0
    checkout_status: int = 201
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if (method is None or s.method == method)
                    and (path is None or s.path == path)]

    def listings(self) -> list[Seen]:
        return self.requests("GET", "/products")


def fake_app(state: FakeStorefront) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def record_and_wait(request: Request, call_next: Any) -> Response:
        raw = await request.body()
        body = None
        if raw:
            import json
            body = json.loads(raw)
        with state.lock:
            state.seen.append(Seen(time.time(), request.method, request.url.path,
                                   dict(request.query_params), dict(request.headers), body))
        await asyncio.sleep(state.latency)  # the fake's set latency: a real asyncio wait
        return await call_next(request)  # type: ignore[no-any-return]

    @app.get("/categories")
    async def categories() -> list[str]:
        return CATEGORIES

    @app.get("/products")
    async def products(category: str) -> dict[str, Any]:
        return {"category": category, "count": 2, "products": [_product(11), _product(12)]}

    @app.get("/products/doorbusters")
    async def doorbusters() -> list[dict[str, Any]]:
        return DOORBUSTERS

    @app.get("/products/{pid}")
    async def product(pid: int) -> dict[str, Any]:
        return {**_product(pid), "description": "fake"}

    @app.post("/carts", status_code=201)
    async def create_cart() -> dict[str, Any]:
        return {"cart_id": str(uuid.uuid4()), "items": [], "total": "0"}

    @app.post("/carts/{cart_id}/items")
    @app.get("/carts/{cart_id}")
    async def cart(cart_id: str) -> dict[str, Any]:
        return {"cart_id": cart_id, "items": [{"product_id": 11, "name": "Item 11",
                                               "price": "10.00", "quantity": 1}], "total": "10.00"}

    @app.post("/checkout")
    async def checkout() -> JSONResponse:
        if state.checkout_status >= 300:
            return JSONResponse(status_code=state.checkout_status, content={"error": "fake"})
        return JSONResponse(status_code=201, content={"order_id": 1, "customer_id": "x",
                                                      "total": "10.00", "lines": [],
                                                      "low_stock_skus": 0})

    return app


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run an ASGI app under uvicorn on a free loopback port, in a thread of this process."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=5,
                                           backlog=4096))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "the server did not shut down"


@pytest.fixture
def storefront() -> Iterator[FakeStorefront]:
    state = FakeStorefront(url="")
    with serve(fake_app(state)) as url:
        state.url = url
        yield state


@dataclass
class LoadGen:
    url: str
    app: FastAPI
    spans: InMemorySpanExporter

    @property
    def controller(self) -> DemoController:
        return self.app.state.loadgen  # type: ignore[no-any-return]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, timeout=30, headers=headers)

    def status(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/admin/demo-status", timeout=30).json()  # type: ignore[no-any-return]

    def finished_spans(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())


LoadGenFactory = Callable[..., LoadGen]


@pytest.fixture
def start_loadgen(storefront: FakeStorefront) -> Iterator[LoadGenFactory]:
    """start_loadgen(**settings) -> a running load generator aimed at the fake storefront.
    The baseline is off unless a test turns it on. At teardown the app shuts down and the test
    checks that no task of it is left running."""
    running: list[tuple[Any, LoadGen]] = []

    def start(**overrides: Any) -> LoadGen:
        values: dict[str, Any] = {"product_catalog_url": storefront.url, "cart_url": storefront.url,
                                  "checkout_url": storefront.url, "loadgen_baseline": False,
                                  "demo_mode": "off", "demo_start_timestamp": None,
                                  "loadgen_stop_grace_seconds": 3.0, **overrides}
        settings = Settings(**values)
        exporter = InMemorySpanExporter()
        telemetry = build_telemetry("load-generator", span_processors=[SimpleSpanProcessor(exporter)])
        app = create_app(settings=settings, telemetry=telemetry)
        cm = serve(app)
        url = cm.__enter__()
        gen = LoadGen(url, app, exporter)
        running.append((cm, gen))
        return gen

    yield start
    for cm, gen in reversed(running):
        controller = gen.controller
        cm.__exit__(None, None, None)
        runs = [r for r in (controller.demo, controller.baseline, *controller.retired) if r]
        assert all(r.task is None or r.task.done() for r in runs), "a scheduler task leaked"
        assert all(not r.journeys for r in runs), "journey tasks leaked"
        assert not controller.followers, "a follower task leaked"


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# Named invalid bodies for POST /admin/start-demo: (body, field the sentence must name).


@pytest.fixture
def unknown_scenario() -> tuple[Any, str]:
    return {"scenario": "cyber_monday", "duration_minutes": 30, "peak_rpm": 120}, "scenario"


@pytest.fixture
def negative_peak_rpm() -> tuple[Any, str]:
    return {"scenario": "blackfriday", "peak_rpm": -5}, "peak_rpm"


@pytest.fixture
def fractional_duration() -> tuple[Any, str]:
    return {"scenario": "blackfriday", "duration_minutes": 2.5}, "duration_minutes"


@pytest.fixture
def zero_minute_seconds() -> tuple[Any, str]:
    return {"scenario": "blackfriday", "minute_seconds": 0}, "minute_seconds"


@pytest.fixture
def text_start_timestamp() -> tuple[Any, str]:
    return {"scenario": "blackfriday", "start_timestamp": "tomorrow"}, "start_timestamp"


@pytest.fixture
def misspelled_field() -> tuple[Any, str]:
    return {"scenario": "blackfriday", "peak_rmp": 120}, "peak_rmp"


@pytest.fixture
def body_not_an_object() -> tuple[Any, str]:
    return ["blackfriday"], "request body"


@pytest.fixture
def scenario_already_over() -> tuple[Any, str]:
    return {"scenario": "blackfriday", "minute_seconds": 1, "start_timestamp": 1000}, "start_timestamp"
