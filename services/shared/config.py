"""Service settings, read from the environment (the ConfigMap keys of the Kubernetes stack)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from scenarios.catalogue import SCENARIOS


def _demo_mode(value: str) -> str:
    if value != "off" and value not in SCENARIOS:
        raise ValueError(f"DEMO_MODE is '{value}'; allowed values: off, {', '.join(sorted(SCENARIOS))}")
    return value


# The catalogue is the one list of scenario names; DEMO_MODE takes one of them, or "off".
DemoMode = Annotated[str, AfterValidator(_demo_mode)]


class ServiceSettings(BaseSettings):
    """Settings shared by every storefront service.

    Field names map one-to-one onto the ConfigMap keys (DB_HOST, DEMO_MODE, ...), so the
    Kubernetes stack, the local runner and the tests configure services the same way.
    """

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    service_name: str = Field(default="storefront", validation_alias="OTEL_SERVICE_NAME")

    db_host: str = "localhost"
    db_port: int = 5432
    db_name: str = "ecommerce"
    db_user: str = "ecommerce_user"
    db_password: SecretStr = SecretStr("")
    # Pool max size. Baseline 100; the Black Friday scenario drops it to 20.
    db_max_connections: int = Field(default=100, ge=1, le=1000)
    # Seconds a request waits for a pooled connection before it fails with 503.
    db_connection_timeout: float = Field(default=30.0, gt=0, le=600)
    db_min_connections: int = Field(default=2, ge=0, le=100)
    # Requests allowed to queue for a connection; beyond that they fail at once.
    db_max_waiting: int = Field(default=100, ge=0, le=10000)
    # How long a Job waits for the database to accept its first connection (db.wait_until_reachable).
    db_reachable_within_s: float = Field(default=60.0, ge=0, le=600)
    # Upper bound on a checkout's wait for a product row lock, so waits end as failures.
    checkout_lock_timeout_ms: int = Field(default=30000, ge=1, le=600000)

    # "off", or the name of a scenario in the catalogue.
    demo_mode: DemoMode = "off"
    demo_start_timestamp: float | None = None
    demo_minute_seconds: float = Field(default=60.0, gt=0, le=3600)

    # A database call slower than this sets db.slow_query=true on its span.
    slow_query_ms: float = Field(default=1000.0, gt=0)
    # How often the index catalog (pg_indexes) is re-read for db.missing_index.
    index_poll_seconds: float = Field(default=2.0, gt=0, le=300)

    def conninfo(self) -> str:
        """A libpq connection string; the password never appears in logs (see __repr__)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.db_host,
            port=self.db_port,
            dbname=self.db_name,
            user=self.db_user,
            password=self.db_password.get_secret_value() or None,
            application_name=self.service_name,
        )
