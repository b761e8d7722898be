"""The benchmarks' shared load driver: an open model (requests launched on a fixed schedule
whatever the answers take, latency measured from the intended start, so a slow answer cannot
delay the next request and hide its own cost), plus the storefront requests it sends and the
services it sends them to."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import psycopg

from bench.context import BenchContext
from rehearsal.stack import LocalStack
from scenarios.alert import percentile
from services.load_generator.config import Settings as LoadgenSettings
from services.load_generator.journeys import listing_params as journey_listing_params

TRANSPORT_ERROR = 599  # status recorded when no HTTP answer came (refused, reset, client timeout)
OK_STATUSES = (200, 201)
SERVICES = ("product-catalog", "checkout")


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


async def _send(session: aiohttp.ClientSession, req: Request, intended: float) -> Outcome:
    loop = asyncio.get_running_loop()
    try:
        async with session.request(req.method, req.url, params=req.params, json=req.body) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError):
        status = TRANSPORT_ERROR
    return Outcome(req.kind, req.due, loop.time() - intended, status)


async def _drive(requests: Sequence[Request], timeout_s: float) -> list[Outcome]:
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
        return list(await asyncio.gather(*tasks))


def run_open_loop(requests: Sequence[Request], timeout_s: float = 120.0) -> list[Outcome]:
    """Send every request at its due time; return when all have answered or timed out."""
    return asyncio.run(_drive(requests, timeout_s))


def schedule(rate_per_s: float, seconds: float, start: float = 0.0) -> list[float]:
    """Evenly spaced due times: `rate_per_s` requests a second for `seconds`."""
    return [start + i / rate_per_s for i in range(math.floor(rate_per_s * seconds))] if rate_per_s > 0 else []


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


def ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return round(a / b, digits) if a is not None and b else None


# --- the storefront requests, as the load generator's journeys send them ---------------------

def listing_params(categories: Sequence[str], slot: int) -> dict[str, Any]:
    """The load generator's listing pages, with its default price window and ceiling."""
    fields = LoadgenSettings.model_fields
    return journey_listing_params(categories, slot, float(fields["loadgen_price_window"].default),
                                  float(fields["loadgen_price_ceiling"].default))


def listing(catalog_url: str, categories: Sequence[str], slot: int, due: float = 0.0) -> Request:
    return Request(due, "catalog", "GET", f"{catalog_url}/products", params=listing_params(categories, slot))


def checkout(checkout_url: str, product_id: int, customer: str, due: float = 0.0) -> Request:
    body = {"customer_id": customer, "items": [{"product_id": product_id, "quantity": 1}]}
    return Request(due, "checkout", "POST", f"{checkout_url}/checkout", body=body)


def categories(catalog_url: str) -> list[str]:
    response = httpx.get(f"{catalog_url}/categories", timeout=60)
    response.raise_for_status()
    return [str(c) for c in response.json()]


def in_stock_products(conninfo: str, count: int, min_stock: int = 10) -> list[int]:
    """`count` distinct non-doorbuster products with stock to sell, spread over the catalog in a
    fixed order (so every run picks the same ones, unless earlier runs sold them down)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id FROM products WHERE NOT is_doorbuster AND stock_quantity >= %s "
            "ORDER BY (id * 7919) %% 1000003, id LIMIT %s", [min_stock, count]).fetchall()
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} in-stock products for the {count} checkouts wanted")
    return [int(r[0]) for r in rows]


def doorbuster(conninfo: str) -> int:
    """The hottest doorbuster: the first one, as the load generator's rush targets it."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT min(id) FROM products WHERE is_doorbuster").fetchone()
    if row is None or row[0] is None:
        raise RuntimeError("the catalog has no doorbuster")
    return int(row[0])


@contextmanager
def services(ctx: BenchContext, name: str, config: dict[str, str],
             extra: dict[str, str] | None = None) -> Iterator[LocalStack]:
    """Product catalog and checkout as real processes (`python -m services`), stopped on exit."""
    stack = LocalStack(ctx.workdir / name, ctx.pg)
    try:
        for service in SERVICES:
            stack.start(service, stack.service_env(config, extra))
        stack.wait_ready(SERVICES)
        yield stack
    finally:
        stack.stop_all()
