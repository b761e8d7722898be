"""cart: shopping carts in PostgreSQL."""

from __future__ import annotations

from fastapi import FastAPI

from services.cart.config import Settings
from services.cart.routes import router
from services.shared.app import create_service_app
from services.shared.telemetry import Telemetry


def create_app(settings: Settings | None = None, telemetry: Telemetry | None = None) -> FastAPI:
    return create_service_app("cart", [router], settings or Settings(), telemetry)
