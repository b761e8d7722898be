"""The common service shell: lifespan (pool, index watcher, telemetry), health, errors."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI
from opentelemetry.metrics import CallbackOptions, Observation
from psycopg_pool import AsyncConnectionPool
from starlette.responses import Response

from scenarios.metrics import POOL_TIMEOUTS, POOL_WAITING, REQUEST_DURATION, request_buckets_ms
from services.shared import attributes as attrs
from services.shared.config import ServiceSettings
from services.shared.db import IndexCatalog, QueryRunner, make_pool
from services.shared.errors import install_error_handlers
from services.shared.exposition import CONTENT_TYPE, scrape
from services.shared.faults import FaultMarkers
from services.shared.health import health_router
from services.shared.logging import configure_logging, get_logger
from services.shared.server_spans import ServerSpans
from services.shared.telemetry import Telemetry, build_telemetry

log = get_logger("app")
UNMEASURED = {"/metrics", "/health", "/ready"}  # the platform's own requests, not the shop's


@dataclass
class ServiceState:
    settings: ServiceSettings
    telemetry: Telemetry
    pool: AsyncConnectionPool
    queries: QueryRunner
    # Per-process memo of facts that never change during a demo (the category list).
    cache: dict[str, Any] = field(default_factory=dict)


def _pool_gauges(telemetry: Telemetry, pool: AsyncConnectionPool) -> None:
    meter = telemetry.meter("storefront.pool")
    labels = {"pool.name": pool.name}

    def observe(key: str) -> Callable[[CallbackOptions], list[Observation]]:
        return lambda _: [Observation(pool.get_stats().get(key, 0), labels)]

    meter.create_observable_gauge("db.pool.size", [observe("pool_size")], description="Open connections")
    meter.create_observable_gauge("db.pool.available", [observe("pool_available")], description="Idle connections")
    meter.create_observable_gauge(POOL_WAITING, [observe("requests_waiting")], description="Requests queued")
    meter.create_observable_gauge("db.pool.max", [observe("pool_max")], description="Pool max size")
    # psycopg_pool counts the requests that got no connection (its timeout, or a full queue).
    meter.create_observable_counter(POOL_TIMEOUTS, [observe("requests_errors")],
                                    description="Connection requests that timed out or were refused")


def create_service_app(
    title: str,
    routers: list[APIRouter],
    settings: ServiceSettings,
    telemetry: Telemetry | None = None,
) -> FastAPI:
    """A storefront service. `telemetry` is injected by tests; production builds it from OTEL_*."""
    telemetry = telemetry or build_telemetry(settings.service_name)
    tracer = telemetry.tracer(f"storefront.{settings.service_name}")
    slow_queries = telemetry.meter("storefront.db").create_counter(
        "db.slow_queries", description="Queries slower than SLOW_QUERY_MS"
    )
    durations = telemetry.meter("storefront.http").create_histogram(
        REQUEST_DURATION, unit="ms", description="Storefront requests, by route and status",
        explicit_bucket_boundaries_advisory=list(request_buckets_ms()))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name)
        pool = make_pool(settings)
        await pool.open(wait=True, timeout=60)
        faults = FaultMarkers(settings, telemetry)
        faults.started()
        indexes = IndexCatalog(settings.conninfo(), settings.index_poll_seconds, on_change=faults.indexes_changed)
        watcher = asyncio.create_task(indexes.run())
        _pool_gauges(telemetry, pool)
        app.state.service = ServiceState(
            settings, telemetry, pool,
            QueryRunner(tracer, indexes, settings.slow_query_ms,
                        on_slow=lambda shape, _ms: slow_queries.add(1, {"db.query.shape": shape})),
        )
        log.info("service_started", pool_max=settings.db_max_connections,
                 pool_timeout_s=settings.db_connection_timeout, demo_mode=settings.demo_mode,
                 **attrs.demo_labels(settings.demo_mode, settings.demo_start_timestamp,
                                     settings.demo_minute_seconds))
        # Startup's objects (FastAPI's routes, pydantic's validators, the SDK) live as long as the
        # process: frozen, the collector stops traversing them on every full collection. A span
        # allocates enough to trigger collections far more often, so this was a fifth of what
        # tracing cost per request (docs/performance.md).
        gc.freeze()
        try:
            yield
        finally:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher
            await pool.close()
            telemetry.shutdown()

    app = FastAPI(title=title, lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(scrape(telemetry.scrape_reader), media_type=CONTENT_TYPE)

    def labels() -> dict[str, int | str]:
        # Labels only: the clock tells which demo minute a span belongs to, never its fate.
        return attrs.demo_labels(settings.demo_mode, settings.demo_start_timestamp, settings.demo_minute_seconds)

    app.add_middleware(ServerSpans, tracer=tracer, excluded_paths=frozenset({"/health", "/ready"}),
                       labels=labels, durations=durations, unmeasured=frozenset(UNMEASURED))
    return app
