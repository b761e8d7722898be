"""The open-loop driver: requests launched on a fixed schedule whatever the answers take, with
latency measured from each request's intended start, so a slow answer can neither delay the
next request nor hide its own cost. Calibration and the benchmarks both send through it."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from scenarios.alert import percentile

TRANSPORT_ERROR = 599  # status recorded when no HTTP answer came (refused, reset, client timeout)
OK_STATUSES = (200, 201)


@dataclass(frozen=True)
class Request:
    due: float  # seconds after the start of the run
    kind: str
    method: str
    url: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    kind: str
    due: float
    latency_s: float  # answer complete minus intended start
    status: int

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    @property
    def answered(self) -> bool:
        return self.status != TRANSPORT_ERROR

    @property
    def done_at(self) -> float:
        """When the answer was complete, in seconds after the start of the run."""
        return self.due + self.latency_s


async def _send(session: aiohttp.ClientSession, req: Request, intended: float) -> Outcome:
    loop = asyncio.get_running_loop()
    try:
        async with session.request(req.method, req.url, params=req.params, json=req.body) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError):
        status = TRANSPORT_ERROR
    return Outcome(req.kind, req.due, loop.time() - intended, status)


async def _drive(requests: Sequence[Request], timeout_s: float, until: float | None) -> list[Outcome]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        tasks = []
        for req in sorted(requests, key=lambda r: r.due):
            delay = t0 + req.due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # paces the offered load; never decides an outcome
            tasks.append(asyncio.create_task(_send(session, req, t0 + req.due)))
        if until is None:
            return list(await asyncio.gather(*tasks))
        if tasks:
            await asyncio.wait(tasks, timeout=max(0.0, t0 + until - loop.time()))
        for task in tasks:
            task.cancel()  # a no-op on the answered ones
        await asyncio.gather(*tasks, return_exceptions=True)
        return [t.result() for t in tasks if not t.cancelled()]


def run_open_loop(requests: Sequence[Request], timeout_s: float = 120.0, until: float | None = None) -> list[Outcome]:
    """Send every request at its due time; return when all have answered or timed out, or,
    with `until`, that many seconds after the start, leaving out what had not answered by
    then (a round counted up to `until` need not wait for its queue to drain)."""
    return asyncio.run(_drive(requests, timeout_s, until))


def schedule(rate_per_s: float, seconds: float, start: float = 0.0) -> list[float]:
    """Evenly spaced due times: `rate_per_s` requests a second for `seconds`."""
    return [start + i / rate_per_s for i in range(math.floor(rate_per_s * seconds))] if rate_per_s > 0 else []


def completed_per_s(outcomes: Sequence[Outcome], kind: str, since: float, until: float) -> float:
    """Successful answers of `kind` completed per second within [since, until)."""
    done = [o for o in outcomes if o.kind == kind and o.ok and since <= o.done_at < until]
    return len(done) / (until - since)


def steady_rate(outcomes: Sequence[Outcome], kind: str, since: float, until: float) -> float:
    """Successful answers of `kind` per second within [since, until), from the spacing of the
    first and last of them: one at a time through a hot row, half a second apart or more, a
    count over a short window is off by up to one answer in it; the spacing is not. Falls
    back to the count when fewer than three answered."""
    done = sorted(o.done_at for o in outcomes if o.kind == kind and o.ok and since <= o.done_at < until)
    if len(done) < 3:
        return len(done) / (until - since)
    return (len(done) - 1) / (done[-1] - done[0])


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def summarize(outcomes: Sequence[Outcome], kind: str) -> dict[str, Any]:
    """Counts and latency percentiles (every answer, failed ones too: their wait is real)."""
    mine = [o for o in outcomes if o.kind == kind]
    latencies = [o.latency_s for o in mine]
    failed = Counter(str(o.status) for o in mine if not o.ok)
    return {
        "count": len(mine), "ok": len(mine) - sum(failed.values()), "errors": sum(failed.values()),
        "error_statuses": dict(sorted(failed.items())),
        "failure_fraction": round(sum(failed.values()) / len(mine), 4) if mine else None,
        "p50_ms": _ms(percentile(latencies, 50)), "p95_ms": _ms(percentile(latencies, 95)),
        "p99_ms": _ms(percentile(latencies, 99)), "max_ms": _ms(max(latencies, default=None)),
    }
