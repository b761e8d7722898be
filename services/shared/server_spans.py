"""One SERVER span per storefront request, as a plain ASGI middleware.

It replaces opentelemetry-instrumentation-fastapi, which under the benchmark's load cost about
as much CPU per request as everything else tracing does: per request it rebuilt the full URL
to redact it, ran its exclusion regex, walked the app's routes again to name the span, and
collected a dozen connection attributes and four HTTP metrics nobody reads. This span keeps
what the demo reads (http.route, http.response.status_code, the W3C parent the load
generator sends, the demo labels and db/checkout facts the handlers add) plus the method and
path, under the same "METHOD /route" name.

It also stamps the demo labels (at the span's start, with the other starting attributes) and
records the request-duration histogram: done here rather than in an @app.middleware("http"),
whose per-request task and streams cost more than the work they carried."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from opentelemetry import context, propagate, trace
from opentelemetry.metrics import Histogram
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_ROUTE = "http.route"
HTTP_STATUS = "http.response.status_code"


class ServerSpans:
    def __init__(self, app: ASGIApp, tracer: Tracer, excluded_paths: frozenset[str],
                 labels: Callable[[], Mapping[str, int | str]], durations: Histogram,
                 unmeasured: frozenset[str]) -> None:
        self.app, self.tracer, self.excluded = app, tracer, excluded_paths
        self.labels, self.durations, self.unmeasured = labels, durations, unmeasured
        self.propagated = frozenset(f.encode("latin-1") for f in propagate.get_global_textmap().fields)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.excluded:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        # Only the headers the propagators read (traceparent, tracestate, baggage) are decoded.
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in self.propagated}
        status = 500  # what the client gets if the app raises before answering
        error: BaseException | None = None

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        # start_span and an explicit attach instead of start_as_current_span: the same span and
        # current context, without its generator-based context manager and use_span per request.
        span = self.tracer.start_span(
            method, context=propagate.extract(carrier), kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"], **self.labels()})
        token = context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send_noting_status)
        except BaseException as exc:
            error = exc
            span.record_exception(exc)
            raise
        finally:
            # The router records the matched route in the scope; unmatched paths keep the method.
            route = getattr(scope.get("route"), "path", None)
            if route is not None:
                span.update_name(f"{method} {route}")
                span.set_attributes({HTTP_ROUTE: route, HTTP_STATUS: status})
                if route not in self.unmeasured:
                    self.durations.record((time.perf_counter() - started) * 1000.0,
                                          {HTTP_ROUTE: route, HTTP_STATUS: status})
            else:
                span.set_attribute(HTTP_STATUS, status)
            if error is not None:
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            elif status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            context.detach(token)
            span.end()
