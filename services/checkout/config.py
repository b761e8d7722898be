"""Settings for the checkout service."""

from __future__ import annotations

from pydantic import Field

from services.shared.config import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = Field(default="checkout", validation_alias="OTEL_SERVICE_NAME")
