"""Load generator cost: CPU seconds per 1,000 requests answered by a fast loopback target,
ours (untraced and traced) against Locust FastHttpUser, in alternating phases.

The three generators start once, pinned to the same core, and take turns: each phase one of
them offers 300 requests a second while the other two offer nothing, and its CPU is read over
the phase's middle (its ramp at either edge left out). Rounds repeat the rotation, so a
neighbour's burst on this shared machine lands on one phase and shows in the per-round spread
instead of deciding the ratio: separate runs of the same pair, minutes apart, had read anywhere
from 0.75x to 2.3x. The ratio is of the summed CPU per summed requests over all rounds."""

from __future__ import annotations

import math
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from bench.context import BenchContext
from bench.generators import UNTRACED, locust_process, ours_process
from bench.procs import cpu_seconds, sleep_until, take_arrivals, target_server
from rehearsal.runner import SPAN_EXPORT_DELAY_MS

RATE = 300.0    # requests per second during a generator's own phase
ROUNDS = 3
EDGE_S = 2.0    # unmeasured at each end of a phase: Locust's shape ticks once a second
GENERATORS = ("ours", "locust", "ours_traced")
LEAD_S = 10.0   # three interpreters start at once on a loaded 2-core machine
CORE = 0        # the generators' core; the target has the other one


@dataclass(frozen=True)
class Phase:
    generator: str
    start: float
    end: float

    @property
    def window(self) -> tuple[float, float]:
        return self.start + EDGE_S, self.end - EDGE_S


def rotation(start: float, steady: float, rounds: int = ROUNDS) -> list[Phase]:
    length = steady + 2 * EDGE_S
    names = [g for _ in range(rounds) for g in GENERATORS]
    return [Phase(g, start + k * length, start + (k + 1) * length) for k, g in enumerate(names)]


def plan_of(generator: str, phases: list[Phase]) -> tuple[tuple[float, float], ...]:
    """A generator's steps: the rate in its own phases, nothing in the others'."""
    return tuple((p.end - p.start, RATE if p.generator == generator else 0.0) for p in phases)


def per_1k(cpu: list[float], served: list[int]) -> dict[str, Any]:
    total_cpu, total = sum(cpu), sum(served)
    return {"cpu_s": round(total_cpu, 3), "requests": total,
            "cpu_s_per_1k": round(1000 * total_cpu / total, 3) if total else None,
            "rounds_cpu_s_per_1k": [round(1000 * c / n, 3) if n else None for c, n in zip(cpu, served, strict=True)]}


def ratios(a: list[float | None], b: list[float | None]) -> list[float | None]:
    return [round(x / y, 3) if x is not None and y else None for x, y in zip(a, b, strict=True)]


def run(ctx: BenchContext) -> dict[str, Any]:
    steady = ctx.seconds(15)
    result: dict[str, Any] = {"rate_per_s": RATE, "window_s": steady, "rounds": ROUNDS}
    with target_server(0.0, core=1 - CORE, log=ctx.workdir / "target.log") as url, ExitStack() as running:
        start = time.time() + LEAD_S
        phases = rotation(start, steady)
        traced = {"OTEL_BSP_SCHEDULE_DELAY": str(SPAN_EXPORT_DELAY_MS)}  # as the rehearsal exports them
        procs = {
            "ours": running.enter_context(ours_process(url, plan_of("ours", phases), start, UNTRACED, CORE)),
            "ours_traced": running.enter_context(ours_process(url, plan_of("ours_traced", phases), start, traced,
                                                              CORE)),
            "locust": running.enter_context(locust_process(url, plan_of("locust", phases), start, CORE)),
        }
        cpu: dict[str, list[float]] = {g: [] for g in GENERATORS}
        for phase in phases:
            lo, hi = phase.window
            pid = procs[phase.generator].pid
            sleep_until(lo)
            before = cpu_seconds([pid])
            sleep_until(hi)
            cpu[phase.generator].append(cpu_seconds([pid]) - before)
        arrivals = take_arrivals(url)
        summaries = {g: p.summary() for g, p in procs.items()}
    for g in GENERATORS:
        served = [sum(p.window[0] <= t < p.window[1] for t in arrivals) for p in phases if p.generator == g]
        result[g] = per_1k(cpu[g], served)
    result["ours"]["lag_p99_ms"] = summaries.get("ours", {}).get("lag_p99_ms")
    result["locust"].update(user="FastHttpUser", users=math.ceil(RATE * 0.1))
    rounds = ratios(result["ours"]["rounds_cpu_s_per_1k"], result["locust"]["rounds_cpu_s_per_1k"])
    known = [r for r in rounds if r is not None]
    result["ours_vs_locust"] = ratios([result["ours"]["cpu_s_per_1k"]], [result["locust"]["cpu_s_per_1k"]])[0]
    result["ours_vs_locust_rounds"] = rounds
    result["ours_vs_locust_spread"] = round(max(known) - min(known), 3) if known else None
    return result
