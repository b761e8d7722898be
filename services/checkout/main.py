"""checkout: orders in one transaction, with real pool and lock failures."""

from __future__ import annotations

from fastapi import FastAPI

from services.checkout.config import Settings
from services.checkout.routes import router
from services.shared.app import create_service_app
from services.shared.telemetry import Telemetry


def create_app(settings: Settings | None = None, telemetry: Telemetry | None = None) -> FastAPI:
    return create_service_app("checkout", [router], settings or Settings(), telemetry)
