"""One traffic program in motion: an arrival clock that launches each journey as its own task
at its scheduled time, whatever the storefront's response times (the open model)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Protocol

from services.load_generator.choices import JourneySpec
from services.load_generator.client import Clock
from services.load_generator.programs import Arrival, Moment, Program
from services.load_generator.stats import RunStats
from services.shared.logging import get_logger

log = get_logger("loadgen.scheduler")


class Chooser(Protocol):
    def choose(self, arrival: Arrival, moment: Moment) -> JourneySpec: ...


class Runner(Protocol):
    async def run(self, spec: JourneySpec) -> None: ...


@dataclass
class Run:
    """The schedule is independent of what a journey does: the storefront's JourneyChooser and
    JourneyRunner in the service, a one-request journey in the benchmarks."""

    program: Program
    stats: RunStats
    chooser: Chooser
    runner: Runner
    clock: Clock
    # Arrivals due within one tick of the last wakeup wait for the next one, at most a tick late:
    # on a VM an idle process's wakeup costs more than the launch it makes (docs/performance.md).
    tick_seconds: float = 0.0
    joined_at: float = 0.0
    stopped_at: float | None = None   # when stop() cut the schedule short
    stopped: bool = False
    scheduling_done: bool = False
    task: asyncio.Task[None] | None = None
    journeys: set[asyncio.Task[None]] = field(default_factory=set)
    # Called once the last arrival has been launched (not when the run is stopped).
    on_scheduled: Callable[[], None] | None = None

    @property
    def active(self) -> bool:
        """Still scheduling arrivals (in-flight journeys of a finished run do not count)."""
        return self.task is not None and not self.scheduling_done and not self.stopped

    def start(self) -> asyncio.Task[None]:
        self.joined_at = self.clock.now()
        # A fresh context: journeys must not become children of whatever span started the run.
        self.task = asyncio.create_task(self._schedule(), name=f"loadgen-{self.program.name}",
                                        context=contextvars.Context())
        return self.task

    async def _schedule(self) -> None:
        woke = self.clock.now()
        for arrival in self.program.arrivals(not_before=self.joined_at):
            # uvloop's timers count whole milliseconds: a launch can come a fraction of one
            # early, which sleeping again would pay for with another wakeup.
            if (now := self.clock.now()) < arrival.at:
                await asyncio.sleep(max(arrival.at, woke + self.tick_seconds) - now)
                woke = self.clock.now()
            self._launch(arrival)
        self.scheduling_done = True
        log.info("program_scheduled", program=self.program.name, journeys=self.stats.journeys)
        if self.on_scheduled is not None:
            self.on_scheduled()
        if self.journeys:
            await asyncio.gather(*self.journeys, return_exceptions=True)

    def _launch(self, arrival: Arrival) -> None:
        spec = self.chooser.choose(arrival, self.program.moment(arrival.at))
        lag_ms = max(0.0, self.clock.now() - arrival.at) * 1000
        self.stats.journey_started(arrival.minute, lag_ms)
        task = asyncio.create_task(self._journey(spec), name=f"journey-{arrival.seq}")
        self.journeys.add(task)
        task.add_done_callback(self.journeys.discard)

    async def _journey(self, spec: JourneySpec) -> None:
        try:
            await self.runner.run(spec)
        except asyncio.CancelledError:
            self.stats.cancelled_journeys += 1
            raise
        except Exception:
            # A bug in one journey must not stop the schedule; it is logged with its trace.
            log.exception("journey_crashed", journey=spec.kind, seq=spec.arrival.seq)

    async def stop(self, grace_seconds: float) -> int:
        """Stop scheduling, cancel in-flight journeys and await them up to `grace_seconds`.
        Returns how many journeys were cancelled."""
        if not self.stopped and not self.scheduling_done:
            self.stopped_at = self.clock.now()
        self.stopped = True
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with suppress(asyncio.CancelledError):
                await self.task
        pending = set(self.journeys)
        for task in pending:
            task.cancel()
        if pending:
            _, stuck = await asyncio.wait(pending, timeout=grace_seconds)
            if stuck:
                log.warning("journeys_still_unwinding", count=len(stuck))
        return len(pending)
