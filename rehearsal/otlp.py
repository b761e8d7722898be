"""A small OTLP/HTTP receiver for the local rehearsal: it keeps the facts the alert is
evaluated on, and forwards everything unchanged to a real backend when the user names one
(OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_HEADERS), so a laptop can feed Coralogix."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.util.re import parse_env_headers

KEPT_ATTRIBUTES = (
    "http.route", "http.response.status_code", "http.status_code", "demo.minute", "demo.phase",
    "db.slow_query", "db.full_table_scan", "db.missing_index", "db.connection.pool.exhausted",
    "checkout.failed", "checkout.failure_reason", "db.connection.pool.wait_ms", "db.query.duration_ms",
    "db.query.shape",
)


@dataclass(frozen=True)
class SpanRecord:
    service: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind in ("string_value", "bool_value", "int_value", "double_value") else None


def decode_spans(body: bytes) -> list[SpanRecord]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    out = []
    for rs in request.resource_spans:
        service = next((_value(a.value) for a in rs.resource.attributes if a.key == "service.name"), "")
        for ss in rs.scope_spans:
            for s in ss.spans:
                attrs = {a.key: _value(a.value) for a in s.attributes if a.key in KEPT_ATTRIBUTES}
                out.append(SpanRecord(service, s.name, s.kind, s.start_time_unix_nano, s.end_time_unix_nano, attrs))
    return out


@dataclass
class Forwarder:
    """Ships raw OTLP bodies upstream on its own thread, over one keep-alive connection; a slow
    backend never stalls the demo. What it could not deliver is counted for the report."""

    endpoint: str
    headers: dict[str, str]
    inbox: queue.Queue[tuple[str, bytes] | None] = field(default_factory=lambda: queue.Queue(maxsize=10000))
    forwarded: int = 0
    failures: int = 0

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True, name="otlp-forwarder").start()

    def offer(self, path: str, body: bytes) -> None:
        try:
            self.inbox.put_nowait((path, body))
        except queue.Full:
            self.failures += 1

    def _run(self) -> None:
        headers = {"Content-Type": "application/x-protobuf", **self.headers}
        with httpx.Client(base_url=self.endpoint.rstrip("/"), headers=headers, timeout=10) as client:
            while (item := self.inbox.get()) is not None:
                path, body = item
                try:
                    client.post(path, content=body).raise_for_status()
                    self.forwarded += 1
                except httpx.HTTPError:
                    self.failures += 1

    def summary(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "forwarded": self.forwarded, "failed": self.failures}


@dataclass
class SpanStore:
    spans: list[SpanRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, records: list[SpanRecord]) -> None:
        with self.lock:
            self.spans.extend(records)

    def snapshot(self) -> list[SpanRecord]:
        with self.lock:
            return list(self.spans)


class OtlpReceiver:
    def __init__(self, store: SpanStore, forwarder: Forwarder | None = None,
                 bind: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self.store, self.forwarder = store, forwarder
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as a real collector answers: each service's exporter posts every
            # OTEL_BSP_SCHEDULE_DELAY (2 s in the rehearsal), and a new TCP connection per post was a fifth of
            # its export thread's CPU. So every answer states its length.
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.forwarder is not None:
                    receiver.forwarder.offer(self.path, body)
                if self.path == "/v1/traces":
                    try:
                        receiver.store.add(decode_spans(body))
                    except Exception:  # a malformed export must not kill the receiver
                        self.send_response(400)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(bind, Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="otlp-receiver")

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", int(self.server.server_address[1])

    @property
    def endpoint(self) -> str:
        return "http://{}:{}".format(*self.address)

    def start(self) -> OtlpReceiver:
        if self.forwarder is not None:
            self.forwarder.start()
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.forwarder is not None:
            self.forwarder.inbox.put(None)


def make_receiver(upstream: str | None, headers: str | None,
                  bind: tuple[str, int] = ("127.0.0.1", 0)) -> OtlpReceiver:
    """A receiver on `bind` (default: a free loopback port); with `upstream`, forwarding there
    with `headers` in the OTEL_EXPORTER_OTLP_HEADERS format (parsed as the SDK parses it)."""
    forwarder = Forwarder(upstream, dict(parse_env_headers(headers or "", liberal=True))) if upstream else None
    return OtlpReceiver(SpanStore(), forwarder, bind).start()
