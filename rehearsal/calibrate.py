"""Calibration: measure this machine's capacity, then size the catalog and the traffic from it.

1. Catalog size: the listing's latency with the indexes gone and the scenario's pool of
   connections all scanning at once is measured on a probe catalog; the catalog is sized so
   that it reaches `target_listing_s` (the seed's 2500 ms queries). Scan cost is linear in rows.
2. Catalog capacity: listings per second the services complete, indexes gone, scenario pool.
3. Lock throughput: doorbuster checkouts per second one hot row lets through while the
   catalog is overloaded as in the scenario. The rush is sized from it."""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx
import psycopg

from rehearsal.database import break_database, restore_database
from rehearsal.localpg import LocalPostgres
from rehearsal.stack import LocalStack
from scenarios.intensity import Calibration
from scenarios.model import Scenario
from services.seed import seed_catalog

LISTING_SQL = ("SELECT id FROM products WHERE category = %s AND price BETWEEN %s AND %s "
               "ORDER BY price LIMIT 20")


@dataclass(frozen=True)
class Sizing:
    probe_products: int
    listing_s_at_pool: float
    products: int


def listing_latency_at_concurrency(conninfo: str, concurrency: int, seconds: float) -> float:
    """Median latency of the listing query with `concurrency` sessions scanning together."""
    samples: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            k = i
            while time.monotonic() < stop:
                started = time.perf_counter()
                conn.execute(LISTING_SQL, [f"toys/sub{k % 10:02d}", k % 500, k % 500 + 100]).fetchall()
                with lock:
                    samples.append(time.perf_counter() - started)
                k += concurrency
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statistics.median(samples)


def size_catalog(pg: LocalPostgres, scenario: Scenario, pool: int, target_s: float, probe: int) -> Sizing:
    """Seed a probe catalog, measure, and reseed at the size that meets the target."""
    have = seed_catalog(pg.conninfo(), probe, scenario.doorbusters).products
    break_database(pg, scenario)
    latency = listing_latency_at_concurrency(pg.conninfo(), pool, seconds=6.0)
    products = int(min(6_000_000, max(100_000, have * target_s / latency)) // 10_000 * 10_000)
    if abs(products - have) / have > 0.10:
        with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
            conn.execute("TRUNCATE products, carts, orders RESTART IDENTITY CASCADE")
        seed_catalog(pg.conninfo(), products, scenario.doorbusters)
        break_database(pg, scenario)  # seeding rebuilt the schema's indexes
    else:
        products = have
    return Sizing(have, latency, products)


Job = tuple[float, str, str, str, dict[str, Any] | None, dict[str, Any] | None]


async def _open_loop(jobs: list[Job], session: aiohttp.ClientSession) -> list[tuple[float, str, float, int]]:
    """Send each request at its due time whatever the answers take; returns (due, kind, end, status)."""
    t0 = time.monotonic()
    results: list[tuple[float, str, float, int]] = []

    async def one(due: float, kind: str, method: str, url: str, params: Any, body: Any) -> None:
        try:
            async with session.request(method, url, params=params, json=body) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 599
        results.append((due, kind, time.monotonic() - t0, status))

    tasks = []
    for due, kind, method, url, params, body in sorted(jobs, key=lambda j: j[0]):
        delay = due - (time.monotonic() - t0)
        if delay > 0:
            await asyncio.sleep(delay)  # pacing the offered load, never the answers
        tasks.append(asyncio.create_task(one(due, kind, method, url, params, body)))
    await asyncio.gather(*tasks)
    return results


def _listing(base: str, categories: list[str], i: int, due: float) -> Job:
    lo = (i * 37) % 900
    return (due, "catalog", "GET", f"{base}/products", {
        "category": categories[i % len(categories)], "price_min": lo, "price_max": lo + 100, "limit": 20}, None)


def _order(base: str, product_id: int, i: int, due: float) -> Job:
    return (due, "order", "POST", f"{base}/checkout", None, {
        "customer_id": f"calibration-{i}", "items": [{"product_id": product_id, "quantity": 1}]})


def _rate(results: list[tuple[float, str, float, int]], kind: str, since: float, until: float) -> float:
    done = [r for r in results if r[1] == kind and r[3] in (200, 201) and since <= r[2] < until]
    return len(done) / (until - since)


def _drive(jobs: list[Job]) -> list[tuple[float, str, float, int]]:
    async def run() -> list[tuple[float, str, float, int]]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as s:
            return await _open_loop(jobs, s)

    return asyncio.run(run())


def measure_capacity(stack: LocalStack, guess_qps: float, doorbuster: int) -> tuple[float, float]:
    """(catalog listings/s, doorbuster checkouts/s), each measured under an offered load that
    exceeds it: a throughput equal to the offered rate proves nothing, so the rate is raised."""
    catalog, checkout = stack.url("product-catalog"), stack.url("checkout")
    categories = httpx.get(f"{catalog}/categories", timeout=60).json()
    offered = 2.0 * guess_qps
    for _ in range(4):
        jobs = [_listing(catalog, categories, i, i / offered) for i in range(int(16 * offered))]
        catalog_qps = _rate(_drive(jobs), "catalog", 6.0, 16.0)
        if catalog_qps < 0.85 * offered:
            break
        offered *= 2
    # The catalog held at 1.5x its capacity, as in the sale, while orders flood one hot row.
    sale = 1.5 * catalog_qps
    orders = 4.0
    for _ in range(4):
        jobs = [_listing(catalog, categories, i, i / sale) for i in range(int(30 * sale))]
        jobs += [_order(checkout, doorbuster, i, 6.0 + i / orders) for i in range(int(24 * orders))]
        lock_per_s = _rate(_drive(jobs), "order", 16.0, 30.0)
        if lock_per_s < 0.85 * orders:
            break
        orders *= 2.5
    return catalog_qps, lock_per_s


def calibrate(pg: LocalPostgres, stack: LocalStack, scenario: Scenario, *, target_listing_s: float = 1.5,
              probe_products: int = 300_000) -> Calibration:
    config = scenario.config_values(scenario_active=True)
    pool = int(config["DB_MAX_CONNECTIONS"])
    sizing = size_catalog(pg, scenario, pool, target_listing_s, probe_products)
    stack.start_storefront({**config, "DEMO_MODE": "off"})
    try:
        catalog_qps, lock_per_s = measure_capacity(stack, pool / target_listing_s, doorbuster=1)
    finally:
        stack.stop_all()
        restore_database(pg, scenario)
    return Calibration(
        products=sizing.products, catalog_capacity_qps=round(catalog_qps, 3),
        lock_throughput_per_s=round(lock_per_s, 3),
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=f"{platform.machine()} {platform.node()} cpus={os.cpu_count()}",
    )
