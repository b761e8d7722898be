"""Our load generator, driving the benchmark's traffic plan: the service's own scheduler
(`Run`, on uvloop as uvicorn runs it), client (`Storefront.call` over the libcurl transport, a
CLIENT span per request when traced, W3C context and the synthetic baggage injected) and
statistics, with a one-request journey instead of the storefront's shopping journeys.

    python -m bench.drive_ours --target http://127.0.0.1:8099 --start EPOCH --plan '[[30, 2], [30, 10]]'

The plan is a list of (seconds, journeys per second) steps; a JSON summary goes to --out.
Tracing follows the standard OTEL_* environment, as in the service."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop
from opentelemetry import baggage, context

from scenarios.alert import percentile
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.model import Scenario
from services.load_generator.choices import JourneySpec
from services.load_generator.client import Clock, Storefront, Visit
from services.load_generator.config import Settings
from services.load_generator.main import transport
from services.load_generator.programs import Arrival, Moment
from services.load_generator.scheduler import Run
from services.load_generator.stats import RunStats
from services.shared.telemetry import build_telemetry


@dataclass(frozen=True)
class StepProgram:
    """Open arrivals at a constant rate per step, evenly spaced; window k is step-local minute."""

    start: float
    steps: tuple[tuple[float, float], ...]   # (seconds, journeys per second)
    window_seconds: float

    @property
    def name(self) -> str:
        return "bench"

    @property
    def scenario(self) -> Scenario:
        return BLACKFRIDAY

    def arrivals(self, not_before: float) -> Iterator[Arrival]:
        offset, seq = self.start, 0
        for seconds, rate in self.steps:
            for k in range(math.floor(seconds * rate)):
                at = offset + (k + 0.5) / rate
                if at >= not_before:
                    yield Arrival(seq, at, self.minute_of(at))
                seq += 1
            offset += seconds

    def minute_of(self, at: float) -> int:
        return max(0, math.floor((at - self.start) / self.window_seconds))

    def request_minute(self, at: float) -> int:
        return self.minute_of(at)

    def moment(self, at: float) -> Moment:
        return Moment(BLACKFRIDAY.traffic.stages[0], 0.0, {})


@dataclass
class LagStats(RunStats):
    """The service's statistics, keeping every launch's lag behind its schedule."""

    lags_ms: list[float] = field(default_factory=list)

    def journey_started(self, minute: int | None, lag_ms: float) -> None:
        self.lags_ms.append(lag_ms)
        super().journey_started(minute, lag_ms)


@dataclass(frozen=True)
class PingChooser:
    def choose(self, arrival: Arrival, moment: Moment) -> JourneySpec:
        return JourneySpec(arrival, "browse_only", moment, (), None, f"bench-{arrival.seq}")


@dataclass(frozen=True)
class PingRunner:
    storefront: Storefront
    target: str

    async def run(self, spec: JourneySpec) -> None:
        token = context.attach(baggage.set_baggage("synthetic_request", "true"))
        try:
            await self.storefront.call(Visit(spec.arrival.at), "GET", self.target, "/ping")
        finally:
            context.detach(token)


async def drive(target: str, program: StepProgram) -> dict[str, Any]:
    settings = Settings()
    telemetry = build_telemetry("load-generator-bench")
    clock = Clock()
    stats = LagStats(program.window_seconds)
    journeys = transport(settings)
    storefront = Storefront(journeys, telemetry.tracer("bench"), stats, program, clock)
    run = Run(program, stats, PingChooser(), PingRunner(storefront, target), clock,
              tick_seconds=settings.loadgen_launch_tick_ms / 1000)
    await run.start()
    journeys.close()
    telemetry.shutdown()
    lags = stats.lags_ms
    latencies = [lat for m in stats.minutes.values() for lat in m.latencies_ms]
    # A driver that joins after the plan's start skips the arrivals already due, as the service does.
    return {"joined_late_s": round(max(0.0, run.joined_at - program.start), 3),
            "journeys": stats.journeys, "requests": stats.requests, "errors": stats.errors,
            "lag_p50_ms": percentile(lags, 50), "lag_p99_ms": percentile(lags, 99), "lag_max_ms": max(lags, default=0),
            "latency_p50_ms": percentile(latencies, 50), "latency_p99_ms": percentile(latencies, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--plan", type=json.loads, required=True)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--out", type=Path, required=True, help="where the JSON summary goes")
    args = parser.parse_args()
    program = StepProgram(args.start, tuple((float(s), float(r)) for s, r in args.plan), args.window)
    args.out.write_text(json.dumps(uvloop.run(drive(args.target, program))))


if __name__ == "__main__":
    main()
