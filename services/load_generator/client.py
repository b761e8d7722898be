"""HTTP calls to the storefront: one CLIENT span per request, W3C trace context and the
`synthetic_request=true` baggage injected into the headers, latency counted from the
request's intended start (the journey's scheduled start for its first request)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from opentelemetry import trace
from opentelemetry.propagate import inject
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from services.load_generator.programs import Program
from services.load_generator.stats import Kind, RunStats
from services.load_generator.throughput import Throughput


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

    def intended(self, now: float) -> float:
        if self.first_pending:
            self.first_pending = False
            return min(self.scheduled, now)
        return now


@dataclass(frozen=True)
class Answer:
    status: int | None   # None: no answer (timeout, refused, reset)
    body: Any = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


@dataclass
class Storefront:
    client: aiohttp.ClientSession
    tracer: Tracer
    stats: RunStats
    program: Program
    clock: Clock
    meter: Throughput | None = None

    async def call(
        self, visit: Visit, method: str, base: str, route: str, *, path: str | None = None,
        kind: Kind = Kind.OTHER, params: dict[str, Any] | None = None, body: Any = None,
        intended: float | None = None,
    ) -> Answer:
        """One request; `route` names the span (low cardinality), `path` is what is sent."""
        if intended is None:
            intended = visit.intended(self.clock.now())
        url = base.rstrip("/") + (path or route)
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
            status, payload = await self._send(span, method, url, params, body)
            latency_ms = max(0.0, (self.clock.now() - intended) * 1000)
            span.set_attribute("loadgen.latency_from_intended_ms", round(latency_ms, 1))
        self.stats.request_done(self.program.request_minute(intended), kind, status, latency_ms)
        if self.meter is not None:
            self.meter.record(kind, status, self.clock.now())
        return Answer(status, payload)

    async def _send(self, span: trace.Span, method: str, url: str,
                    params: dict[str, Any] | None, body: Any) -> tuple[int | None, Any]:
        headers: dict[str, str] = {}
        inject(headers)
        try:
            async with self.client.request(method, url, params=params, json=body,
                                           headers=headers, allow_redirects=False) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:200]))
            return None, None
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_attribute("error.type", str(status))
            span.set_status(Status(StatusCode.ERROR))
        return status, _json(raw)
