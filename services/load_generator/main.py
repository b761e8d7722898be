"""load-generator: open-model shopper traffic against the storefront, and the demo's admin API.

It has no database, so it does not use the storefront's service shell; it shares the
telemetry and logging setup with the other services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.load_generator import live
from services.load_generator.config import Settings
from services.load_generator.controller import DemoController
from services.load_generator.models import validation_error
from services.load_generator.routes import router
from services.load_generator.transport import CurlTransport
from services.shared.errors import http_error
from services.shared.logging import configure_logging, get_logger
from services.shared.telemetry import Telemetry, build_telemetry

log = get_logger("loadgen")


def http_client() -> aiohttp.ClientSession:
    """The presenter page's probes (pools, Prometheus): a few requests a second, each with its
    own timeout. The journeys go through the transport."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


def transport(settings: Settings) -> CurlTransport:
    """One transport for every journey, with room for every in-flight request: at 2.5 s answers
    the generator must never wait for a connection of its own pool (measured: httpx's pool fell
    tens of seconds behind schedule with a few hundred requests in flight)."""
    return CurlTransport(timeout_s=settings.loadgen_request_timeout_seconds,
                         max_connections=settings.loadgen_max_connections)


def create_app(settings: Settings | None = None, telemetry: Telemetry | None = None) -> FastAPI:
    """The app; `settings` and `telemetry` are injected by tests, else read from the environment."""
    settings = settings or Settings()
    calibration = settings.calibration()  # a bad CALIBRATION_* fails at startup, not mid-demo
    telemetry = telemetry or build_telemetry(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name)
        client, journeys = http_client(), transport(settings)
        controller = DemoController(settings, telemetry, client, journeys, calibration)
        app.state.loadgen = controller
        log.info("load_generator_started", replicas=settings.loadgen_replicas,
                 demo_mode=settings.demo_mode, calibrated=calibration is not None,
                 admin_token_set=settings.admin_token is not None)
        try:
            await controller.boot()
            yield
        finally:
            await controller.shutdown()
            await client.close()
            journeys.close()
            telemetry.shutdown()

    app = FastAPI(title="load-generator", lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.include_router(router)
    app.include_router(live.router)
    app.mount("/static", live.static_files(), name="static")
    return app
