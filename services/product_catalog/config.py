"""Settings for the product-catalog service."""

from __future__ import annotations

from pydantic import Field

from services.shared.config import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = Field(default="product-catalog", validation_alias="OTEL_SERVICE_NAME")
