"""product-catalog: the seed's catalog query, on a real pool and a real plan."""

from __future__ import annotations

from fastapi import FastAPI

from services.product_catalog.config import Settings
from services.product_catalog.routes import router
from services.shared.app import create_service_app
from services.shared.telemetry import Telemetry


def create_app(settings: Settings | None = None, telemetry: Telemetry | None = None) -> FastAPI:
    return create_service_app("product-catalog", [router], settings or Settings(), telemetry)
