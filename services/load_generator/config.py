"""Settings for the load generator, read from the environment (the ConfigMap keys)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scenarios.calibration import Calibration
from services.shared.config import DemoMode


class Settings(BaseSettings):
    """The load generator has no database: only the storefront's URLs and the demo clock."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    service_name: str = Field(default="load-generator", validation_alias="OTEL_SERVICE_NAME")

    product_catalog_url: str = "http://127.0.0.1:8001"
    cart_url: str = "http://127.0.0.1:8002"
    checkout_url: str = "http://127.0.0.1:8003"

    # When set, POST /admin/* require `Authorization: Bearer <token>`.
    admin_token: SecretStr | None = None

    # Each of N replicas sends 1/N of the target rate; the index interleaves their arrivals.
    loadgen_replicas: int = Field(default=1, ge=1, le=1000)
    loadgen_replica_index: int = Field(default=0, ge=0, le=999)

    demo_mode: DemoMode = "off"
    demo_start_timestamp: float | None = None
    # When the cluster restores a scenario left applied (the stack's revertsAt), if it will.
    demo_revert_at: float | None = None
    demo_minute_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Auto-start overrides; by default the scenario's own duration and peak.
    loadgen_duration_minutes: int | None = Field(default=None, ge=1, le=1440)
    loadgen_peak_rpm: float | None = Field(default=None, gt=0, le=100_000)

    # scenarios.calibration.Calibration as JSON, or a file holding it; none means quiet journeys.
    calibration_json: str | None = None
    calibration_file: Path | None = None

    # Overrides the scenario's think time between a shopper's steps (tests shorten it).
    loadgen_think_time_seconds: float | None = Field(default=None, ge=0, le=600)

    # The low steady traffic sent when no demo runs (off in tests that count journeys).
    loadgen_baseline: bool = True
    # Doorbuster orders rotate over the first N doorbusters; 1 = the single hottest row.
    loadgen_doorbuster_targets: int = Field(default=1, ge=1, le=1000)
    # Width of the price window of a catalog listing page, and the top of the price range.
    loadgen_price_window: float = Field(default=100.0, gt=0)
    loadgen_price_ceiling: float = Field(default=1000.0, gt=0)

    # Above the longest honest wait (pool timeout + a lock queue bounded by its lock_timeout).
    loadgen_request_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    loadgen_max_connections: int = Field(default=1000, ge=1, le=100_000)
    # How late an arrival may launch so that arrivals closer together share one wakeup: only
    # rates above 1000/tick journeys a second wait (the demo's peak is a few a second); on a VM
    # each wakeup of an idle process costs more CPU than the launch (docs/performance.md).
    loadgen_launch_tick_ms: float = Field(default=30.0, ge=0, le=100)
    # How long stop-demo and shutdown wait for cancelled journeys to unwind.
    loadgen_stop_grace_seconds: float = Field(default=5.0, gt=0, le=120)

    # The presenter page (GET /live): a Prometheus evaluating the scenario's rules, if any, whose
    # alerts it shows beside ours; how long it and the storefront's /metrics may take to answer.
    prometheus_url: str | None = None
    live_probe_timeout_seconds: float = Field(default=1.5, gt=0, le=30)

    @model_validator(mode="after")
    def _index_within_replicas(self) -> Settings:
        # The phase wraps (programs.replica_phase takes the index mod N): an out-of-range index
        # would double another replica's arrivals while a share of the rate goes unsent.
        if self.loadgen_replica_index >= self.loadgen_replicas:
            raise ValueError(
                f"LOADGEN_REPLICA_INDEX ({self.loadgen_replica_index}) must be below "
                f"LOADGEN_REPLICAS ({self.loadgen_replicas}).")
        return self

    def calibration(self) -> Calibration | None:
        """The calibration from CALIBRATION_JSON, else CALIBRATION_FILE, else None."""
        if self.calibration_json:
            source, text = "CALIBRATION_JSON", self.calibration_json
        elif self.calibration_file:
            source = f"CALIBRATION_FILE ({self.calibration_file})"
            try:
                text = self.calibration_file.read_text()
            except OSError as exc:
                raise ValueError(f"{source} cannot be read: {exc.strerror}.") from exc
        else:
            return None
        return Calibration.from_json(text, source)
