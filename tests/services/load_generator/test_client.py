"""Storefront.call with tracing on and off: the same request and statistics either way; a
span and its traceparent only when traced, the synthetic baggage always."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import baggage, context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracer, Tracer

from scenarios.blackfriday import BLACKFRIDAY
from services.load_generator.client import Clock, Storefront, Visit
from services.load_generator.programs import DemoProgram
from services.load_generator.stats import Kind, RunStats
from services.load_generator.transport import CurlTransport
from tests.services.load_generator.test_transport import server


def _call(tracer: Tracer) -> tuple[list[dict[str, object]], RunStats, object]:
    async def main() -> tuple[list[dict[str, object]], RunStats, object]:
        clock = Clock()
        stats = RunStats(10)
        program = DemoProgram(BLACKFRIDAY, clock.now(), 10, 30, 120)
        front = Storefront(CurlTransport(timeout_s=5), tracer, stats, program, clock)
        token = context.attach(baggage.set_baggage("synthetic_request", "true"))
        try:
            async with server() as (url, seen):
                answer = await front.call(Visit(clock.now()), "GET", url, "/products", kind=Kind.CATALOG_LISTING,
                                          params={"category": "toys/sub01", "limit": 20})
        finally:
            context.detach(token)
            front.transport.close()
        return seen, stats, answer.body
    return asyncio.run(main())


@pytest.mark.parametrize("traced", [True, False])
def test_tracing_changes_the_span_not_the_request(traced: bool) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen, stats, body = _call(provider.get_tracer("t") if traced else NoOpTracer())
    assert [s["path"] for s in seen] == ["/products?category=toys%2Fsub01&limit=20"]
    assert stats.requests == 1 and stats.errors == 0 and body == {"ok": True}
    assert (seen[0]["trace"] is not None) == traced
    assert seen[0]["baggage"] == "synthetic_request=true"
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == (["GET /products"] if traced else [])
    if traced:
        assert spans[0].attributes["http.response.status_code"] == 200
        assert spans[0].attributes["url.template"] == "/products"


def test_requests_the_minutes_count_are_in_flight_until_answered() -> None:
    """The rehearsal's drain waits for these: a request of the timeline is counted in flight
    until it answers; a journey's step after the timeline is not counted at all."""
    async def in_flight(started_ago: float) -> list[int]:
        clock = Clock()
        stats = RunStats(10)
        program = DemoProgram(BLACKFRIDAY, clock.now() - started_ago, 10, 30, 120)  # 300 s long
        front = Storefront(CurlTransport(timeout_s=5), NoOpTracer(), stats, program, clock)
        async with server(delay=0.3) as (url, _):
            call = asyncio.create_task(front.call(Visit(clock.now()), "GET", url, "/products"))
            await asyncio.sleep(0.15)
            during = stats.counted_in_flight
            await call
        front.transport.close()
        return [during, stats.counted_in_flight, stats.requests]

    assert asyncio.run(in_flight(started_ago=100)) == [1, 0, 1]
    assert asyncio.run(in_flight(started_ago=400)) == [0, 0, 1]  # the timeline ended 100 s ago
