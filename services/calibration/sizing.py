"""Sizing the catalog: the catalog's own listing query, with the load generator's listing
pages, run by the scenario's pool of sessions at once with the indexes gone. Scan cost is
linear in rows, so one measurement on a probe catalog gives the size that meets a latency."""

from __future__ import annotations

import statistics
import threading
import time

import psycopg

from services.load_generator.config import Settings
from services.load_generator.requests import listing_params
from services.product_catalog.queries import CATEGORIES, LIST_PRODUCTS

MIN_PRODUCTS, MAX_PRODUCTS, STEP = 100_000, 6_000_000, 10_000


def listing_latency(conninfo: str, concurrency: int, seconds: float, settings: Settings | None = None) -> float:
    """Median seconds of one listing with `concurrency` sessions listing together."""
    settings = settings or Settings()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        categories = [str(r[0]) for r in conn.execute(CATEGORIES.sql).fetchall()]
    samples: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def session(first: int) -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            slot = first
            while time.monotonic() < stop:
                params = listing_params(categories, slot, settings.loadgen_price_window,
                                        settings.loadgen_price_ceiling)
                started = time.perf_counter()
                conn.execute(LIST_PRODUCTS.sql, params).fetchall()  # type: ignore[arg-type]
                with lock:
                    samples.append(time.perf_counter() - started)
                slot += concurrency

    threads = [threading.Thread(target=session, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statistics.median(samples)


def catalog_size(probe_products: int, probe_latency_s: float, target_latency_s: float) -> int:
    """The catalog size at which a listing takes `target_latency_s`, within sane bounds."""
    wanted = probe_products * target_latency_s / probe_latency_s
    return int(min(MAX_PRODUCTS, max(MIN_PRODUCTS, wanted)) // STEP * STEP)
