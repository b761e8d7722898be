"""The OTLP receiver the storefront benchmark (and the rehearsal) exports to answers as a real
collector does, over kept-alive connections: otherwise the tracing figure charges each service
a new TCP connection per export."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from rehearsal.otlp import make_receiver


def _counting_accepts(server: Any) -> list[int]:
    accepted: list[int] = []
    accept: Callable[[], Any] = server.get_request

    def counted() -> Any:
        accepted.append(1)
        return accept()

    server.get_request = counted
    return accepted


def test_the_exporter_keeps_one_connection_across_exports() -> None:
    receiver = make_receiver(None, None)
    accepted = _counting_accepts(receiver.server)
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{receiver.endpoint}/v1/traces")))
    try:
        tracer = provider.get_tracer("test")
        for name in ("first", "second", "third"):
            with tracer.start_as_current_span(name):
                pass
        assert [s.name for s in receiver.store.snapshot()] == ["first", "second", "third"]
        assert len(accepted) == 1
    finally:
        provider.shutdown()
        receiver.stop()


def test_a_malformed_export_is_refused_and_the_connection_still_serves() -> None:
    receiver = make_receiver(None, None)
    conn = http.client.HTTPConnection(*receiver.address, timeout=5)
    try:
        conn.request("POST", "/v1/traces", body=b"\xff not protobuf",
                     headers={"Content-Type": "application/x-protobuf"})
        refused = conn.getresponse()
        assert (refused.status, refused.version, refused.read()) == (400, 11, b"")
        sock = conn.sock
        conn.request("POST", "/v1/metrics", body=b"", headers={"Content-Type": "application/x-protobuf"})
        assert conn.getresponse().status == 200
        assert conn.sock is sock and sock is not None
    finally:
        conn.close()
        receiver.stop()
