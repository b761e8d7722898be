"""HTTP calls to the storefront: one CLIENT span per request, W3C trace context and the
`synthetic_request=true` baggage injected into the headers, latency counted from the
request's intended start (the journey's scheduled start for its first request)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode, urlsplit

from opentelemetry.propagate import inject
from opentelemetry.trace import NoOpTracer, SpanKind, Status, StatusCode, Tracer

from services.load_generator.programs import Program
from services.load_generator.stats import Kind, RunStats
from services.load_generator.throughput import Throughput
from services.load_generator.transport import CurlTransport, NoAnswer, Reply


@dataclass
class Clock:
    """Epoch seconds read off the monotonic clock, immune to wall-clock steps mid-run."""

    offset: float = field(default_factory=lambda: time.time() - time.monotonic())

    def now(self) -> float:
        return time.monotonic() + self.offset


@dataclass
class Visit:
    """One journey in flight; its first request is timed from the journey's scheduled start."""

    scheduled: float
    first_pending: bool = True
    # Untraced, every request of a visit carries the same propagated headers (the journey's
    # baggage): encoded once, not per request (a third of the request path's Python, profiled).
    headers: list[str] | None = None

    def intended(self, now: float) -> float:
        if self.first_pending:
            self.first_pending = False
            return min(self.scheduled, now)
        return now


@dataclass(frozen=True)
class Answer:
    status: int | None   # None: no answer (timeout, refused, reset)
    raw: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @cached_property
    def body(self) -> Any:
        """The JSON answer, parsed when a journey reads it (most steps only need the status)."""
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            return None


def _propagated() -> list[str]:
    """The current context's headers: traceparent (when traced) and the synthetic_request baggage."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return [f"{name}: {value}" for name, value in carrier.items()]


@dataclass
class Storefront:
    transport: CurlTransport
    tracer: Tracer
    stats: RunStats
    program: Program
    clock: Clock
    meter: Throughput | None = None

    @property
    def traced(self) -> bool:
        # With tracing off (OTEL_SDK_DISABLED), no span and no attributes are built per request.
        return not isinstance(self.tracer, NoOpTracer)

    async def call(
        self, visit: Visit, method: str, base: str, route: str, *, path: str | None = None,
        kind: Kind = Kind.OTHER, params: dict[str, Any] | None = None, body: Any = None,
        intended: float | None = None,
    ) -> Answer:
        """One request; `route` names the span (low cardinality), `path` is what is sent."""
        if intended is None:
            intended = visit.intended(self.clock.now())
        url = base.rstrip("/") + (path or route)
        if params:
            url += "?" + urlencode(params)
        minute = self.program.request_minute(intended)
        if self.meter is not None:
            self.meter.started(kind, self.clock.now())
        counted = minute is not None
        self.stats.counted_in_flight += counted
        try:
            if self.traced:
                reply = await self._traced(method, url, route, intended, body)
            else:
                if visit.headers is None:
                    visit.headers = _propagated()
                reply = await self._send(method, url, body, visit.headers)
        finally:
            self.stats.counted_in_flight -= counted
        status, raw = (None, b"") if isinstance(reply, NoAnswer) else (reply.status, reply.body)
        latency_ms = max(0.0, (self.clock.now() - intended) * 1000)
        self.stats.request_done(minute, kind, status, latency_ms)
        if self.meter is not None:
            self.meter.record(kind, status, self.clock.now())
        return Answer(status, raw)

    async def _traced(self, method: str, url: str, route: str, intended: float, body: Any) -> Reply | NoAnswer:
        where = urlsplit(url)
        attributes: dict[str, Any] = {
            "http.request.method": method, "url.full": url, "url.template": route,
            "server.address": where.hostname or "", "server.port": where.port or 80,
            "synthetic_request": True, **self.program.moment(intended).labels,
        }
        with self.tracer.start_as_current_span(
            f"{method} {route}", kind=SpanKind.CLIENT, attributes=attributes,
            record_exception=False, set_status_on_exception=False,
        ) as span:
            reply = await self._send(method, url, body, _propagated())
            if isinstance(reply, NoAnswer):
                span.set_attribute("error.type", reply.kind)
                span.set_status(Status(StatusCode.ERROR, str(reply)[:200]))
            else:
                span.set_attribute("http.response.status_code", reply.status)
                if reply.status >= 500:
                    span.set_attribute("error.type", str(reply.status))
                    span.set_status(Status(StatusCode.ERROR))
            span.set_attribute("loadgen.latency_from_intended_ms",
                               round(max(0.0, (self.clock.now() - intended) * 1000), 1))
        return reply

    async def _send(self, method: str, url: str, body: Any, headers: list[str]) -> Reply | NoAnswer:
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers = [*headers, "Content-Type: application/json"]
        try:
            return await self.transport.request(method, url, headers, data)
        except NoAnswer as exc:
            return exc
