"""The played timeline's markers: each phase the scenario enters, each traffic stage (an actor's
action: the doorbuster sale, the checkout rush, the sale's crowd) and the first minute our own
evaluation of the scenario's alert fires, emitted as the demo clock reaches them.

Phases and stages come from the scenario's data, at their minutes; the alert from the
observations, judged as /admin/demo-status judges them (completed minutes only), so the alert
marker comes at the start of the minute after the one the status names, and carries that one.
The first stage is the quiet day's behaviour, not an action, so it has no marker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from scenarios.model import Scenario
from services.load_generator.client import Clock
from services.load_generator.programs import DemoProgram
from services.load_generator.stats import RunStats


@dataclass(frozen=True)
class Marker:
    minute: int
    kind: str   # phase, actor or alert (faults are marked by whoever applies them)
    step: str   # the phase's, the stage's or the alert rule's name
    phase: str  # the scenario's phase at `minute`


def planned(scenario: Scenario, duration_minutes: int) -> list[Marker]:
    """The phase and actor markers of a timeline `duration_minutes` long, in order."""
    phases = [Marker(p.start_minute, "phase", p.name, p.name) for p in scenario.phases]
    actors = [Marker(s.from_minute, "actor", s.name, scenario.phase_at(s.from_minute).name)
              for s in scenario.traffic.stages[1:]]
    markers = [m for m in phases + actors if m.minute < duration_minutes]
    return sorted(markers, key=lambda m: (m.minute, m.kind != "phase"))


def alert_marker(scenario: Scenario, first_minute: int) -> Marker:
    return Marker(first_minute, "alert", scenario.alert.name, scenario.phase_at(first_minute).name)


@dataclass
class MarkerPlayer:
    """Plays one demo's markers from the minute it joined; `sleep` and `clock` are the test's."""

    program: DemoProgram
    stats: RunStats
    emit: Callable[[Marker], None]
    clock: Clock
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    alert_emitted: bool = False

    async def play(self, joined_at: float) -> None:
        program = self.program
        first = program.minute_of(joined_at) if joined_at > program.start else 0
        todo = [m for m in planned(program.scenario, program.duration_minutes) if m.minute >= first]
        for minute in range(first, program.duration_minutes + 1):
            # A loop: uvloop's timers count whole milliseconds and can wake a fraction early.
            while (delay := program.start + minute * program.minute_seconds - self.clock.now()) > 0:
                await self.sleep(delay)
            if minute > first:
                self._judge(minute - 1)
            for marker in [m for m in todo if m.minute == minute]:
                self.emit(marker)

    def _judge(self, completed: int) -> None:
        if self.alert_emitted:
            return
        result = self.stats.alert(self.program.scenario.alert, completed)
        if result["fired"] and result["first_minute"] is not None:
            self.alert_emitted = True
            self.emit(alert_marker(self.program.scenario, result["first_minute"]))
