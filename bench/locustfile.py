"""Locust, driving the benchmark's traffic plan (runs in its own venv, `.venv-bench`).

Locust is a closed model: each user sends a request, waits for the answer, then paces. The
best it can do for a target rate is `constant_pacing(P)` with rate x P users, P chosen above
the latency, so no user falls behind; this file does that, and the benchmark runs it twice:
with P above the 2.5 s latency (best case: the latency known in advance), and with P sized
for a healthy storefront (what a demo script written before the outage would use).

Environment: BENCH_PLAN (JSON list of [seconds, journeys per second]; a step at 0 runs no
user), BENCH_PACING (P, s), BENCH_USER (fast: FastHttpUser, the default; http: HttpUser),
BENCH_START (optional epoch the plan starts at, no user before it; else Locust's own start)."""

from __future__ import annotations

import json
import math
import os
import time

from locust import HttpUser, LoadTestShape, constant_pacing, task
from locust.contrib.fasthttp import FastHttpUser

PLAN: list[tuple[float, float]] = [(float(s), float(r)) for s, r in json.loads(os.environ["BENCH_PLAN"])]
PACING = float(os.environ.get("BENCH_PACING", "5"))
START = float(os.environ["BENCH_START"]) if os.environ.get("BENCH_START") else None
BASE = FastHttpUser if os.environ.get("BENCH_USER", "fast") == "fast" else HttpUser


class Shopper(BASE):  # type: ignore[misc, valid-type]
    wait_time = constant_pacing(PACING)

    @task
    def ping(self) -> None:
        self.client.get("/ping")


class Steps(LoadTestShape):
    """rate x P users during each step, spawned at `rate` a second; stop at the end of the plan."""

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time() if START is None else time.time() - START
        if elapsed < 0:
            return 0, 10_000.0
        for seconds, rate in PLAN:
            if elapsed < seconds:
                users = math.ceil(rate * PACING)
                # Spawning `rate` users a second spreads each step's new users over one pacing
                # period, so their paced requests interleave instead of arriving in bursts.
                # Locust stops users at the spawn rate too: a step at 0 stops them all at once.
                return users, max(1.0, rate) if users else 10_000.0
            elapsed -= seconds
        return None
