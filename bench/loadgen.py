"""Load generator benchmarks: accuracy under latency, and cost per request, ours vs Locust.

Accuracy: a target answering in 2.5 s, the plan 2 journeys/s then 10/s, each journey one
request; arrivals are counted at the server, per window, against the plan. Cost: CPU seconds
of the generator process per 1,000 requests answered by a fast loopback target, measured over
a steady window, and the highest rate ours holds on one core."""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.context import BenchContext
from bench.procs import LOCUST, cpu_seconds, process, sleep_until, take_arrivals, target_server

LATENCY_S = 2.5
LEAD_S = 6.0   # from launch to the plan's start: a loaded 2-core machine takes seconds to start Python
UNTRACED = {"OTEL_SDK_DISABLED": "true"}


@dataclass(frozen=True)
class Plan:
    window: float                            # seconds per counting window ("minute")
    steps: tuple[tuple[float, float], ...]   # (seconds, journeys per second)

    def json(self) -> str:
        return json.dumps([list(s) for s in self.steps])

    @property
    def seconds(self) -> float:
        return sum(s for s, _ in self.steps)

    def targets(self) -> list[float]:
        """Arrivals the plan asks for in each window (windows divide the steps)."""
        out: list[float] = []
        for seconds, rate in self.steps:
            out += [rate * self.window] * round(seconds / self.window)
        return out


def per_window(arrivals: list[float], t0: float, plan: Plan) -> list[dict[str, float]]:
    targets = plan.targets()
    counts = [0] * len(targets)
    for at in arrivals:
        k = math.floor((at - t0) / plan.window)
        if 0 <= k < len(counts):
            counts[k] += 1
    return [{"window": k, "target": t, "achieved": c, "ratio": round(c / t, 4)}
            for k, (t, c) in enumerate(zip(targets, counts, strict=True))]


def worst_error(windows: list[dict[str, float]]) -> float:
    return round(max(abs(w["achieved"] - w["target"]) / w["target"] for w in windows), 4)


def ours(url: str, plan: Plan, start: float, *, env: dict[str, str] | None = None,
         core: int | None = None, cpu_window: tuple[float, float] | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        argv = [sys.executable, "-m", "bench.drive_ours", "--target", url, "--start", f"{start:.3f}",
                "--plan", plan.json(), "--window", str(plan.window), "--out", str(out)]
        with process(argv, env={"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                                "OTEL_METRIC_EXPORT_INTERVAL": "5000", **(env or {})}, core=core) as proc:
            cpu = _cpu_over(proc.pid, cpu_window) if cpu_window else None
            proc.wait(timeout=plan.seconds + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"bench.drive_ours exited with {proc.returncode}")
        summary = json.loads(out.read_text())
    if summary["joined_late_s"] > 0:
        raise RuntimeError(f"bench.drive_ours started {summary['joined_late_s']} s after the plan's start and skipped "
                           "the arrivals already due: give it a longer lead (the machine is slow to start Python)")
    return {**summary, "cpu_s": cpu}


def locust(url: str, plan: Plan, pacing: float, *, user: str = "fast",
           cpu_window_from_start: tuple[float, float] | None = None) -> dict[str, Any]:
    """Runs Locust headless until its shape ends; CPU over a window relative to its launch."""
    argv = [str(LOCUST), "-f", "bench/locustfile.py", "--headless", "--host", url, "--only-summary",
            "--loglevel", "ERROR", "--stop-timeout", "0"]
    env = {"BENCH_PLAN": plan.json(), "BENCH_PACING": str(pacing), "BENCH_USER": user}
    launched = time.time()
    with process(argv, env=env) as proc:
        cpu = None
        if cpu_window_from_start:
            lo, hi = cpu_window_from_start
            cpu = _cpu_over(proc.pid, (launched + lo, launched + hi))
        proc.wait(timeout=plan.seconds + 120)
    return {"cpu_s": cpu, "launched": launched}


def _cpu_over(pid: int, window: tuple[float, float]) -> float:
    sleep_until(window[0])
    before = cpu_seconds([pid])
    sleep_until(window[1])
    return cpu_seconds([pid]) - before


def accuracy(ctx: BenchContext) -> dict[str, Any]:
    window = ctx.seconds(30)
    plan = Plan(window, ((2 * window, 2.0), (2 * window, 10.0)))
    result: dict[str, Any] = {"latency_s": LATENCY_S, "window_s": window, "plan": plan.json()}
    with target_server(LATENCY_S, log=ctx.workdir / "target.log") as url:
        start = time.time() + LEAD_S
        summary = ours(url, plan, start)
        windows = per_window(take_arrivals(url), start, plan)
        result["ours"] = {"windows": windows, "worst_error": worst_error(windows), **summary}
        for label, pacing in (("locust", 2 * LATENCY_S), ("locust_naive", 1.0)):
            locust(url, plan, pacing)
            arrivals = take_arrivals(url)
            windows = per_window(arrivals, min(arrivals), plan)
            result[label] = {"pacing_s": pacing, "users": [math.ceil(r * pacing) for _, r in plan.steps],
                             "windows": windows, "worst_error": worst_error(windows)}
    result["ours_worst_error"] = result["ours"]["worst_error"]
    result["locust_worst_error"] = result["locust"]["worst_error"]
    result["locust_naive_worst_error"] = result["locust_naive"]["worst_error"]
    return result


def _per_1k(cpu: float | None, arrivals: list[float], window: tuple[float, float]) -> dict[str, Any]:
    served = sum(window[0] <= t < window[1] for t in arrivals)
    return {"cpu_s": cpu, "requests": served, "cpu_s_per_1k": round(1000 * (cpu or 0) / served, 3) if served else None}


def cost(ctx: BenchContext) -> dict[str, Any]:
    rate, steady = 300.0, ctx.seconds(20)
    plan = Plan(steady + 6, ((steady + 6, rate),))
    result: dict[str, Any] = {"rate_per_s": rate, "window_s": steady}
    with target_server(0.0, core=1, log=ctx.workdir / "target.log") as url:
        for label, env in (("ours", UNTRACED), ("ours_traced", {})):
            start = time.time() + LEAD_S
            window = (start + 3, start + 3 + steady)
            summary = ours(url, plan, start, env=env, core=0, cpu_window=window)
            result[label] = {**_per_1k(summary["cpu_s"], take_arrivals(url), window),
                             "lag_p99_ms": summary["lag_p99_ms"]}
        pacing = 0.1
        run = locust(url, plan, pacing, cpu_window_from_start=(4, 4 + steady))
        window = (run["launched"] + 4, run["launched"] + 4 + steady)
        result["locust"] = {**_per_1k(run["cpu_s"], take_arrivals(url), window), "user": "FastHttpUser",
                            "users": math.ceil(rate * pacing)}
        result["max_rps_one_core"] = max_rate(ctx, url)
    result["ours_cpu_s_per_1k"] = result["ours"]["cpu_s_per_1k"]
    result["ours_traced_cpu_s_per_1k"] = result["ours_traced"]["cpu_s_per_1k"]
    result["locust_cpu_s_per_1k"] = result["locust"]["cpu_s_per_1k"]
    result["ours_max_rps_one_core"] = result["max_rps_one_core"]["held"]
    return result


def max_rate(ctx: BenchContext, url: str) -> dict[str, Any]:
    """Doubling, then bisecting: the highest rate at which ours (untraced, pinned to core 0)
    delivers >= 99% of the plan at the server with launch lag p99 under 50 ms."""
    seconds = ctx.seconds(10)
    tried: dict[float, dict[str, Any]] = {}

    def holds(rate: float) -> bool:
        plan = Plan(seconds, ((seconds, rate),))
        start = time.time() + LEAD_S
        summary = ours(url, plan, start, env=UNTRACED, core=0)
        served = len(take_arrivals(url))
        ok = served >= 0.99 * rate * seconds and (summary["lag_p99_ms"] or 0) < 50
        tried[rate] = {"served_ratio": round(served / (rate * seconds), 4), "lag_p99_ms": summary["lag_p99_ms"],
                       "held": ok}
        return ok

    low, high = 0.0, 250.0
    while holds(high) and high < 64_000:
        low, high = high, high * 2
    while high - low > max(50.0, low * 0.1):
        mid = round((low + high) / 2, -1)
        low, high = (mid, high) if holds(mid) else (low, mid)
    return {"held": low, "tried": {str(k): v for k, v in sorted(tried.items())}, "seconds_per_try": seconds}


def run(ctx: BenchContext) -> dict[str, Any]:
    return {"loadgen_accuracy": accuracy(ctx), "loadgen_cost": cost(ctx)}
