"""Timeline markers: every phase change, actor action, fault applied or restored and alert
firing, told three ways so any backend can show it. A short root span `demo.marker` (with a
span event of the same attributes), a structured log line `demo_marker` inside it (so it
carries the span's trace id), and +1 on the `demo.marker` counter, which a dashboard draws as
an annotation. Whoever makes the step happen calls emit_marker: the load generator for the
timeline it plays and its own alert, the applier for the fault."""

from __future__ import annotations

from typing import Any

from opentelemetry.context import Context

from scenarios.metrics import DEMO_MARKER
from services.shared.attributes import DEMO_MINUTE, DEMO_PHASE
from services.shared.telemetry import Telemetry

DEMO_SCENARIO = "demo.scenario"
DEMO_STEP = "demo.step"
DEMO_KIND = "demo.kind"
KINDS = ("phase", "actor", "fault", "alert")


def marker_attributes(scenario: str, step: str, kind: str, minute: float,
                      phase: str) -> dict[str, Any]:
    """The attributes a marker's span, event and log line carry."""
    if kind not in KINDS:
        raise ValueError(f"marker kind '{kind}' is unknown; allowed: {', '.join(KINDS)}")
    return {DEMO_MINUTE: minute, DEMO_PHASE: phase, DEMO_SCENARIO: scenario,
            DEMO_STEP: step, DEMO_KIND: kind}


def emit_marker(telemetry: Telemetry, logger: Any, scenario: str, step: str, kind: str,
                minute: float, phase: str) -> dict[str, Any]:
    """Emit one marker (span, log line, counter); returns its attributes."""
    attributes = marker_attributes(scenario, step, kind, minute, phase)
    tracer = telemetry.tracer("demo.markers")
    # A root span of its own: a marker is not part of whatever request or journey is current.
    with tracer.start_as_current_span("demo.marker", context=Context(), attributes=attributes) as span:
        span.add_event(f"demo.{kind}", attributes)
        logger.info("demo_marker", **attributes)
    # The SDK hands back the instrument already registered under this name.
    counter = telemetry.meter("demo.markers").create_counter(
        DEMO_MARKER, description="Timeline markers: phase changes, actor actions, faults, alerts")
    counter.add(1, {DEMO_STEP: step, DEMO_PHASE: phase, DEMO_KIND: kind})
    return attributes
