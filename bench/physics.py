"""The physics of the outage: how much slower the missing indexes make the catalog listing and
checkout, through the real services.

(a) One client, sequential requests, baseline pool: median latency with the indexes, then
    after the scenario's break.sql; only the indexes differ.
(b) The scenario's peak (its last traffic stage): listings offered at catalog_overload x the
    calibrated catalog capacity and doorbuster checkouts at checkout_overload x the calibrated
    hot-row lock throughput, open model, scenario pool; indexes present vs dropped.
Both stacks run side by side, so the indexes are dropped once and restored once, at the end."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import httpx

from bench.context import BenchContext
from bench.openloop import categories, checkout, doorbuster, in_stock_products, listing, ratio, services
from bench.restore import restore_or_fail
from rehearsal.database import break_database
from scenarios.model import Stage
from services.calibration.driver import OK_STATUSES, Request, run_open_loop, schedule, summarize

SEQUENTIAL = 150  # requests per kind and index state (a fifth when quick)
WARMUP = 5  # unmeasured requests per kind first (EXPLAIN cache, prepared statements)
PEAK_S = 30.0


def _sequential(client: httpx.Client, requests: Sequence[Request]) -> tuple[list[float], int]:
    """Latencies (s) of requests sent one after another, and how many failed."""
    latencies, errors = [], 0
    for req in requests:
        started = time.perf_counter()
        response = client.request(req.method, req.url, params=req.params, json=req.body)
        latencies.append(time.perf_counter() - started)
        errors += response.status_code not in OK_STATUSES
    return latencies, errors


def _median_ms(latencies: Sequence[float]) -> float:
    return round(statistics.median(latencies) * 1000, 2)


def _single_client(urls: tuple[str, str], cats: Sequence[str], products: Sequence[int], n: int) -> dict[str, Any]:
    """Medians of n sequential listings (the same pages in every state) and n checkouts of
    distinct products, after WARMUP of each."""
    catalog_url, checkout_url = urls
    orders = [checkout(checkout_url, pid, f"bench-physics-{pid}") for pid in products]
    with httpx.Client(timeout=120) as client:
        _sequential(client, [listing(catalog_url, cats, 50_000 + i) for i in range(WARMUP)] + orders[:WARMUP])
        listed, listing_errors = _sequential(client, [listing(catalog_url, cats, i) for i in range(n)])
        ordered, order_errors = _sequential(client, orders[WARMUP:WARMUP + n])
    return {"requests": n, "catalog_median_ms": _median_ms(listed), "checkout_median_ms": _median_ms(ordered),
            "catalog_errors": listing_errors, "checkout_errors": order_errors}


def _peak_rates(ctx: BenchContext) -> tuple[Stage, float, float]:
    stage = ctx.scenario.traffic.stages[-1]
    if stage.catalog_overload is None or stage.checkout_overload is None:
        raise ValueError(f"stage {stage.name!r} states no catalog or checkout overload")
    cal = ctx.calibration
    return stage, stage.catalog_overload * cal.catalog_capacity_qps, stage.checkout_overload * cal.lock_throughput_per_s


def _peak(ctx: BenchContext, urls: tuple[str, str], cats: Sequence[str], door: int, label: str) -> dict[str, Any]:
    """One open-model run of the peak stage's offered load."""
    _, catalog_rate, checkout_rate = _peak_rates(ctx)
    seconds = ctx.seconds(PEAK_S)
    requests = [listing(urls[0], cats, i, due) for i, due in enumerate(schedule(catalog_rate, seconds))]
    requests += [checkout(urls[1], door, f"bench-rush-{label}-{i}", due)
                 for i, due in enumerate(schedule(checkout_rate, seconds, 0.5 / catalog_rate))]
    outcomes = run_open_loop(requests)
    return {"catalog": summarize(outcomes, "catalog"), "checkout": summarize(outcomes, "checkout")}


def _warm_peak(urls: tuple[str, str], cats: Sequence[str], door: int) -> None:
    with httpx.Client(timeout=120) as client:
        _sequential(client, [listing(urls[0], cats, 60_000 + i) for i in range(WARMUP)]
                    + [checkout(urls[1], door, f"bench-rush-warmup-{i}") for i in range(WARMUP)])


def _figures(ctx: BenchContext, single: dict[str, dict[str, Any]], peak: dict[str, dict[str, Any]]) -> dict[str, Any]:
    stage, catalog_rate, checkout_rate = _peak_rates(ctx)
    on, off = single["indexes"], single["dropped"]
    p_on, p_off = peak["indexes"], peak["dropped"]
    return {
        "catalog_slowdown": ratio(off["catalog_median_ms"], on["catalog_median_ms"]),
        "checkout_slowdown": ratio(off["checkout_median_ms"], on["checkout_median_ms"]),
        "catalog_median_ms_indexes": on["catalog_median_ms"], "catalog_median_ms_dropped": off["catalog_median_ms"],
        "checkout_median_ms_indexes": on["checkout_median_ms"],
        "checkout_median_ms_dropped": off["checkout_median_ms"],
        "catalog_slowdown_peak": ratio(p_off["catalog"]["p95_ms"], p_on["catalog"]["p95_ms"]),
        "checkout_slowdown_peak": ratio(p_off["checkout"]["p95_ms"], p_on["checkout"]["p95_ms"]),
        "catalog_slowdown_peak_p50": ratio(p_off["catalog"]["p50_ms"], p_on["catalog"]["p50_ms"]),
        "checkout_slowdown_peak_p50": ratio(p_off["checkout"]["p50_ms"], p_on["checkout"]["p50_ms"]),
        "checkout_failure_fraction_indexes": p_on["checkout"]["failure_fraction"],
        "checkout_failure_fraction_dropped": p_off["checkout"]["failure_fraction"],
        "peak": {"stage": stage.name, "seconds": ctx.seconds(PEAK_S), "catalog_rate_per_s": round(catalog_rate, 3),
                 "checkout_rate_per_s": round(checkout_rate, 3), **peak},
        "single_client": single,
    }


def run(ctx: BenchContext) -> dict[str, Any]:
    n = SEQUENTIAL // 5 if ctx.quick else SEQUENTIAL
    conninfo = ctx.pg.conninfo()
    products = in_stock_products(conninfo, 2 * (WARMUP + n))
    door = doorbuster(conninfo)
    baseline = {**ctx.scenario.config_values(scenario_active=False), "DEMO_MODE": "off"}
    single: dict[str, dict[str, Any]] = {}
    peak: dict[str, dict[str, Any]] = {}
    try:
        with services(ctx, "physics-baseline", baseline) as calm, \
                services(ctx, "physics-scenario", ctx.scenario.config_values(scenario_active=True)) as rush:
            calm_urls = (calm.url("product-catalog"), calm.url("checkout"))
            rush_urls = (rush.url("product-catalog"), rush.url("checkout"))
            cats = categories(calm_urls[0])
            _warm_peak(rush_urls, cats, door)
            for state, chosen in (("indexes", products[: WARMUP + n]), ("dropped", products[WARMUP + n:])):
                if state == "dropped":
                    break_database(ctx.pg, ctx.scenario)
                single[state] = _single_client(calm_urls, cats, chosen, n)
                peak[state] = _peak(ctx, rush_urls, cats, door, state)
    finally:
        restore_or_fail(ctx)
    return {**_figures(ctx, single, peak), "indexes_restored": True}
