"""The demo controller: at most one demo at a time, the baseline whenever no demo runs.

Start and stop are serialised by an asyncio.Lock, so concurrent admin calls cannot start two
demos or leave the baseline running beside a demo."""

from __future__ import annotations

import asyncio
import contextvars
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from opentelemetry.metrics import Counter

from scenarios.calibration import Calibration
from scenarios.catalogue import SCENARIOS
from services.load_generator.choices import JourneyChooser
from services.load_generator.client import Clock, Storefront
from services.load_generator.config import Settings
from services.load_generator.journeys import JourneyRunner
from services.load_generator.markers import Marker, MarkerPlayer
from services.load_generator.metrics import Now, instruments
from services.load_generator.programs import BaselineProgram, DemoProgram, Program
from services.load_generator.scheduler import Run
from services.load_generator.stats import RunStats
from services.load_generator.status import demo_status
from services.load_generator.throughput import Throughput
from services.load_generator.transport import CurlTransport
from services.shared.logging import get_logger
from services.shared.markers import emit_marker
from services.shared.telemetry import Telemetry

log = get_logger("loadgen.controller")


class DemoConflict(Exception):
    """The request contradicts the current state (a demo already runs, or none does)."""


class DemoRejected(Exception):
    """The request is well-formed but cannot be served (the scenario would already be over)."""


@dataclass(frozen=True)
class DemoRequest:
    scenario: str
    duration_minutes: int | None = None
    peak_rpm: float | None = None
    minute_seconds: float | None = None
    start_timestamp: float | None = None


@dataclass
class DemoController:
    settings: Settings
    telemetry: Telemetry
    client: aiohttp.ClientSession     # the presenter page's probes
    transport: CurlTransport          # the journeys' requests
    calibration: Calibration | None
    clock: Clock = field(default_factory=Clock)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    demo: Run | None = None
    baseline: Run | None = None
    retired: list[Run] = field(default_factory=list)
    followers: set[asyncio.Task[None]] = field(default_factory=set)
    markers: asyncio.Task[None] | None = None
    journeys_counter: Counter | None = None

    def __post_init__(self) -> None:
        self.journeys_counter = instruments(self.telemetry, self.now_playing)

    def program(self, request: DemoRequest) -> DemoProgram:
        scenario = SCENARIOS[request.scenario]
        return DemoProgram(
            scenario=scenario,
            start=request.start_timestamp if request.start_timestamp is not None else self.clock.now(),
            minute_seconds=request.minute_seconds or self.settings.demo_minute_seconds,
            duration_minutes=request.duration_minutes or scenario.duration_minutes,
            peak_rpm=request.peak_rpm or max(r for _, r in scenario.traffic.rpm_points),
            replicas=self.settings.loadgen_replicas,
            replica_index=self.settings.loadgen_replica_index,
        )

    def _run(self, program: Program, minute_seconds: float) -> Run:
        stats = RunStats(minute_seconds)
        tracer = self.telemetry.tracer("loadgen.journeys")
        meter = Throughput()
        storefront = Storefront(self.transport, tracer, stats, program, self.clock, meter)
        think = self.settings.loadgen_think_time_seconds
        if think is None:
            think = program.scenario.traffic.think_time_seconds
        runner = JourneyRunner(storefront, self.settings, tracer, think, counter=self.journeys_counter)
        chooser = JourneyChooser(self.calibration, self.settings.loadgen_replica_index,
                                 replicas=self.settings.loadgen_replicas, meter=meter)
        return Run(program, stats, chooser, runner, self.clock,
                   tick_seconds=self.settings.loadgen_launch_tick_ms / 1000)

    async def boot(self) -> None:
        """Auto-start from the environment (DEMO_MODE + DEMO_START_TIMESTAMP), else the baseline."""
        s = self.settings
        if s.demo_mode != "off" and s.demo_start_timestamp is not None:
            request = DemoRequest(s.demo_mode, s.loadgen_duration_minutes, s.loadgen_peak_rpm,
                                  s.demo_minute_seconds, s.demo_start_timestamp)
            try:
                await self.start_demo(request)
                return
            except DemoRejected as exc:
                log.info("demo_already_over", detail=str(exc))
        elif s.demo_mode != "off":
            log.warning("demo_not_started", detail="DEMO_MODE is set but DEMO_START_TIMESTAMP is not.")
        async with self.lock:
            self._start_baseline()

    def _start_baseline(self) -> None:
        if not self.settings.loadgen_baseline or self.baseline is not None:
            return
        scenario = next(iter(SCENARIOS.values()))
        program = BaselineProgram(scenario, self.clock.now(), self.settings.loadgen_replicas,
                                  self.settings.loadgen_replica_index)
        self.baseline = self._run(program, 60.0)
        self.baseline.start()
        log.info("baseline_started", rpm=program.total_rpm, replicas=program.replicas)

    async def _stop_baseline(self) -> None:
        if self.baseline is not None:
            run, self.baseline = self.baseline, None
            await run.stop(self.settings.loadgen_stop_grace_seconds)

    async def start_demo(self, request: DemoRequest) -> dict[str, Any]:
        async with self.lock:
            if self.demo is not None and self.demo.active:
                raise DemoConflict(
                    f"A '{self.demo.program.name}' demo is already running; stop it first with "
                    "POST /admin/stop-demo.")
            program = self.program(request)
            now = self.clock.now()
            if program.end <= now:
                raise DemoRejected(
                    f"Field 'start_timestamp' is invalid: a {program.duration_minutes}-minute demo "
                    f"starting at {program.start:.0f} would have ended {now - program.end:.0f} s ago; "
                    f"allowed values: a Unix time after {now - (program.end - program.start):.0f}.")
            await self._stop_baseline()
            self.retired = [r for r in self.retired if r.task is not None and not r.task.done()]
            if self.demo is not None:
                self.retired.append(self.demo)
            self.demo = self._run(program, program.minute_seconds)
            run = self.demo
            run.on_scheduled = lambda: self._follow(run)
            run.start()
            await self._play_markers(run, program)
            log.info("demo_started", scenario=program.name, start=program.start,
                     minute_seconds=program.minute_seconds, peak_rpm=program.peak_rpm,
                     duration_minutes=program.duration_minutes, replicas=program.replicas,
                     joined_minute=program.minute_of(now) if now > program.start else 0)
            return self.status()

    def _follow(self, run: Run) -> None:
        """A demo whose schedule ends hands back to the baseline at once, while its last
        journeys finish (stop-demo hands back by itself)."""
        if not run.stopped:
            task = asyncio.create_task(self._resume_baseline(run))
            self.followers.add(task)
            task.add_done_callback(self.followers.discard)

    async def _resume_baseline(self, run: Run) -> None:
        async with self.lock:
            if self.demo is run:
                log.info("demo_finished", scenario=run.program.name, journeys=run.stats.journeys)
                self._start_baseline()

    async def stop_demo(self) -> dict[str, Any]:
        async with self.lock:
            if self.demo is None or not self.demo.active:
                raise DemoConflict("No demo is running, so nothing was stopped"
                                   + (" (the baseline keeps running)." if self.baseline else "."))
            cancelled = await self.demo.stop(self.settings.loadgen_stop_grace_seconds)
            await self._stop_markers()
            log.info("demo_stopped", scenario=self.demo.program.name, cancelled_journeys=cancelled)
            self._start_baseline()
            return {"stopped": True, "cancelled_journeys": cancelled, **self.status()}

    async def _play_markers(self, run: Run, program: DemoProgram) -> None:
        """The timeline's markers, told once for all replicas (by replica 0)."""
        await self._stop_markers()
        if self.settings.loadgen_replica_index != 0:
            return

        def emit(m: Marker) -> None:
            emit_marker(self.telemetry, log, program.name, m.step, m.kind, m.minute, m.phase)

        player = MarkerPlayer(program, run.stats, emit, self.clock)
        self.markers = asyncio.create_task(player.play(run.joined_at), name="loadgen-markers",
                                           context=contextvars.Context())

    async def _stop_markers(self) -> None:
        task, self.markers = self.markers, None
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    def now_playing(self) -> Now:
        """The demo minute being played and its target, else the baseline's rate (minute -1)."""
        now, demo = self.clock.now(), self.demo
        if (demo is not None and not demo.stopped and isinstance(demo.program, DemoProgram)
                and demo.program.start <= now < demo.program.end):
            minute = demo.program.minute_of(now)
            return Now(minute, demo.program.target_rpm(minute))
        if self.baseline is not None and isinstance(self.baseline.program, BaselineProgram):
            return Now(-1, self.baseline.program.total_rpm / self.baseline.program.replicas)
        return Now(-1, 0.0)

    def status(self) -> dict[str, Any]:
        return demo_status(self.demo, self.baseline, self.clock.now(), self.settings)

    async def shutdown(self) -> None:
        """Stop every run and await every task: nothing outlives the app."""
        runs = [r for r in (self.demo, self.baseline, *self.retired) if r is not None]
        self.baseline = None
        self.retired = []
        await self._stop_markers()
        for run in runs:
            await run.stop(self.settings.loadgen_stop_grace_seconds)
        for task in list(self.followers):
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
