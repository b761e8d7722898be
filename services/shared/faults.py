"""Fault markers, emitted by the services that see the fault rather than by whoever applied it
(a psql run from a laptop or a Pulumi dynamic provider can emit no span a backend keeps): a
service started with a scenario's pool settings marks them once, and a change in the indexes a
scenario drops, as the service's index catalog reads it, marks each index dropped or restored.
So the annotation comes from the cluster itself, on the same clock as the spans it explains."""

from __future__ import annotations

from dataclasses import dataclass

from scenarios.catalogue import SCENARIOS
from services.shared.attributes import DEMO_MINUTE, DEMO_PHASE, demo_labels
from services.shared.config import ServiceSettings
from services.shared.logging import get_logger
from services.shared.markers import emit_marker
from services.shared.telemetry import Telemetry

log = get_logger("faults")
# Every index some scenario drops, and the scenario that drops it.
WATCHED = {index: s.name for s in SCENARIOS.values() for index in s.dropped_indexes}


def config_step(settings: ServiceSettings) -> str | None:
    """The scenario's settings this service runs with, as a marker's step; None at baseline."""
    if settings.demo_mode == "off":
        return None
    scenario = SCENARIOS[settings.demo_mode]
    values = settings.model_dump()
    changed = [f"{c.key}={values.get(c.key.lower(), c.scenario)}" for c in scenario.config
               if c.key != "DEMO_MODE" and c.key.lower() in values]
    return "settings applied: " + ", ".join(changed) if changed else None


@dataclass
class FaultMarkers:
    """Marks the faults one service sees; `indexes_changed` is the index catalog's callback."""

    settings: ServiceSettings
    telemetry: Telemetry
    seen: frozenset[str] | None = None

    def _emit(self, scenario: str, step: str) -> None:
        labels = demo_labels(self.settings.demo_mode, self.settings.demo_start_timestamp,
                             self.settings.demo_minute_seconds)
        minute = labels.get(DEMO_MINUTE, -1)
        emit_marker(self.telemetry, log, scenario, step, "fault", float(minute), str(labels[DEMO_PHASE]))

    def started(self) -> None:
        step = config_step(self.settings)
        if step is not None:
            self._emit(self.settings.demo_mode, step)

    def indexes_changed(self, valid: frozenset[str]) -> None:
        present = frozenset(i for i in WATCHED if i in valid)
        if self.seen is None:
            # First read: a missing index is marked (the break may have come before this pod);
            # present ones are the baseline, not an event.
            for index in sorted(set(WATCHED) - present):
                self._emit(WATCHED[index], f"index missing: {index}")
        else:
            for index in sorted(self.seen - present):
                self._emit(WATCHED[index], f"index dropped: {index}")
            for index in sorted(present - self.seen):
                self._emit(WATCHED[index], f"index restored: {index}")
        self.seen = present
