"""Fixtures for the load generator: a tiny fake storefront in its own process on a real port,
whose latency the test sets (fake_storefront.py), and the load generator itself under uvicorn
on a real port in a thread, with its spans captured in memory."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rehearsal.localpg import free_port
from rehearsal.processes import wait_for
from services.load_generator.config import Settings
from services.load_generator.controller import DemoController
from services.load_generator.main import create_app
from services.shared.telemetry import build_telemetry
from tests.servers import serve

FAKE = Path(__file__).with_name("fake_storefront.py")


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
    """Handle on the fake storefront process: set its behaviour, read what it received."""

    url: str

    def set(self, **control: Any) -> None:
        httpx.post(f"{self.url}/_fake/control", json=control, timeout=10).raise_for_status()

    @property
    def latency(self) -> float:
        raise AttributeError("write-only")

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.set(latency=seconds)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        seen = [Seen(**r) for r in httpx.get(f"{self.url}/_fake/seen", timeout=30).json()]
        return [s for s in seen if (method is None or s.method == method)
                and (path is None or s.path == path)]

    def listings(self) -> list[Seen]:
        return self.requests("GET", "/products")


@pytest.fixture(scope="session")
def fake_storefront_process() -> Iterator[str]:
    """The fake storefront in its own process (its own GIL), shared by the session."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(FAKE), str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(proc, f"{url}/_fake/seen"), 30, what="the fake storefront answering")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def storefront(fake_storefront_process: str) -> FakeStorefront:
    """The fake storefront, reset: no latency, checkouts succeed, nothing recorded."""
    fake = FakeStorefront(fake_storefront_process)
    fake.set(reset=True, latency=0.0, checkout_status=201)
    return fake


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


def _answers(proc: subprocess.Popen[bytes], url: str) -> bool:
    if proc.poll() is not None:
        raise RuntimeError("the fake storefront exited")
    try:
        httpx.get(url, timeout=2)
        return True
    except httpx.TransportError:
        return False


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
