"""The load generator's own instruments, served on its GET /metrics and sent over OTLP:
journeys started by kind, the timeline's target now and the demo minute being played
(names in scenarios/metrics.py; the markers' counter is services/shared/markers.py's)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from opentelemetry.metrics import CallbackOptions, Counter, Observation

from scenarios.metrics import DEMO_MINUTE, LOADGEN_JOURNEYS, LOADGEN_TARGET_RPM
from services.shared.telemetry import Telemetry


@dataclass(frozen=True)
class Now:
    """What the generator plays at this instant: the demo minute (-1: none) and the target."""

    minute: int
    target_rpm: float


def instruments(telemetry: Telemetry, now: Callable[[], Now]) -> Counter:
    """Register the gauges (read through `now` at each collection); returns the journeys counter."""
    meter = telemetry.meter("loadgen")

    def minute(_: CallbackOptions) -> Iterable[Observation]:
        return [Observation(now().minute)]

    def target(_: CallbackOptions) -> Iterable[Observation]:
        return [Observation(now().target_rpm)]

    meter.create_observable_gauge(DEMO_MINUTE, [minute],
                                  description="The demo minute being played, -1 when no demo plays")
    meter.create_observable_gauge(
        LOADGEN_TARGET_RPM, [target],
        description="Target journeys per real minute for the current demo minute (this replica)")
    return meter.create_counter(LOADGEN_JOURNEYS, description="Journeys started, by journey kind")
