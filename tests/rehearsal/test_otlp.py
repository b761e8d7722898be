"""The rehearsal's OTLP receiver: real OTLP/HTTP exports in, the facts kept, and everything
forwarded unchanged, with the user's headers, to the backend they name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from rehearsal.observe import SERVER
from rehearsal.otlp import make_receiver
from rehearsal.processes import wait_for


@pytest.fixture
def backend() -> Iterator[list[dict[str, Any]]]:
    """A stand-in backend that records every request it is sent."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seen.append({"url": f"http://127.0.0.1:{server.server_address[1]}"})
    yield seen
    server.shutdown()
    server.server_close()


def _export(endpoint: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    with provider.get_tracer("test").start_as_current_span(
            "POST /checkout", kind=SpanKind.SERVER,
            attributes={"http.route": "/checkout", "demo.minute": 21, "db.connection.pool.exhausted": True,
                        "customer.email": "not-kept@example.com"}):
        pass
    provider.shutdown()


def test_spans_are_kept_and_forwarded_with_the_users_headers(backend: list[dict[str, Any]]) -> None:
    upstream = backend.pop(0)["url"]
    receiver = make_receiver(upstream, "x-api-key=s3cret%20key,x-team=demo")
    try:
        _export(receiver.endpoint)
        [span] = receiver.store.snapshot()
        assert (span.service, span.name, span.kind) == ("checkout", "POST /checkout", SERVER)
        assert span.attributes == {"http.route": "/checkout", "demo.minute": 21, "db.connection.pool.exhausted": True}
        forwarded = wait_for(lambda: backend[:1], 10, what="the export reaching the backend")[0]
    finally:
        receiver.stop()
    assert forwarded["path"] == "/v1/traces"
    assert forwarded["headers"]["x-api-key"] == "s3cret key" and forwarded["headers"]["x-team"] == "demo"
    assert forwarded["headers"]["Content-Type"] == "application/x-protobuf" and forwarded["body"]
    assert wait_for(lambda: receiver.forwarder and receiver.forwarder.summary()["forwarded"] == 1, 5)


def test_an_unreachable_backend_is_counted_not_fatal() -> None:
    receiver = make_receiver("http://127.0.0.1:9", None)  # the discard port: nothing listens
    try:
        _export(receiver.endpoint)
        assert len(receiver.store.snapshot()) == 1
        assert wait_for(lambda: receiver.forwarder and receiver.forwarder.summary()["failed"] == 1, 15)
    finally:
        receiver.stop()
