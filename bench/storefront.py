"""Storefront baseline: latency of catalog listings and checkouts on the healthy stack (indexes
present, baseline pool) under a fixed open-model rate, and what tracing costs the services in
CPU per request (OTLP export to a local receiver vs OTEL_SDK_DISABLED=true).

The latency figures come from the traced run: the storefront as deployed exports its spans.
The untraced run offers the same schedule to freshly started services."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bench.context import BenchContext
from bench.openloop import categories, checkout, in_stock_products, listing, ratio, services
from bench.procs import cpu_seconds
from rehearsal.otlp import make_receiver
from services.calibration.driver import Outcome, Request, run_open_loop, schedule, summarize

CATALOG_RATE = 20.0  # listings per second
CHECKOUT_RATE = 5.0  # checkouts per second, each of a different in-stock product
WARMUP_S = 10.0  # full-length warm-up at the same rate (imports, EXPLAIN cache, pool, buffers)
MEASURE_S = 30.0


def _traffic(urls: tuple[str, str], cats: Sequence[str], products: Sequence[int], seconds: float,
             first_slot: int) -> list[Request]:
    catalog_url, checkout_url = urls
    requests = [listing(catalog_url, cats, first_slot + i, due)
                for i, due in enumerate(schedule(CATALOG_RATE, seconds))]
    offset = 0.5 / CATALOG_RATE  # checkouts fall between listings
    requests += [checkout(checkout_url, pid, f"bench-storefront-{pid}", due)
                 for pid, due in zip(products, schedule(CHECKOUT_RATE, seconds, offset), strict=False)]
    return requests


def _checkouts_needed(seconds: float) -> int:
    return math.floor(CHECKOUT_RATE * seconds) + 1


def _measure(ctx: BenchContext, label: str, extra: dict[str, str], products: Sequence[int]) -> dict[str, Any]:
    """Warm up, then one measured window: latencies and the services' CPU per answered request."""
    config = {**ctx.scenario.config_values(scenario_active=False), "DEMO_MODE": "off"}
    warm, seconds = ctx.seconds(WARMUP_S), ctx.seconds(MEASURE_S)
    n_warm = _checkouts_needed(warm)
    with services(ctx, f"storefront-{label}", config, extra) as stack:
        urls = (stack.url("product-catalog"), stack.url("checkout"))
        cats = categories(urls[0])
        run_open_loop(_traffic(urls, cats, products[:n_warm], warm, 0))
        pids = list(stack.pids().values())
        before = cpu_seconds(pids)
        outcomes = run_open_loop(_traffic(urls, cats, products[n_warm:], seconds, 100_000))
        cpu_s = cpu_seconds(pids) - before
    return _figures(outcomes, cpu_s, seconds)


def _figures(outcomes: Sequence[Outcome], cpu_s: float, seconds: float) -> dict[str, Any]:
    answered = sum(o.answered for o in outcomes)
    return {
        "seconds": seconds,
        "catalog": summarize(outcomes, "catalog"),
        "checkout": summarize(outcomes, "checkout"),
        "answered": answered,
        "cpu_s": round(cpu_s, 3),
        "cpu_ms_per_request": round(1000 * cpu_s / answered, 3) if answered else None,
    }


def run(ctx: BenchContext) -> dict[str, Any]:
    receiver = make_receiver(None, None)
    try:
        traced = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_BSP_SCHEDULE_DELAY": "500",  # as the rehearsal exports them
            "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        }
        per_config = _checkouts_needed(ctx.seconds(WARMUP_S)) + _checkouts_needed(ctx.seconds(MEASURE_S))
        products = in_stock_products(ctx.pg.conninfo(), 2 * per_config)
        on = _measure(ctx, "traced", traced, products[:per_config])
        off = _measure(ctx, "untraced", {**traced, "OTEL_SDK_DISABLED": "true"}, products[per_config:])
        spans = len(receiver.store.snapshot())
    finally:
        receiver.stop()
    catalog, orders = on["catalog"], on["checkout"]
    return {
        "catalog_rate_per_s": CATALOG_RATE, "checkout_rate_per_s": CHECKOUT_RATE, "seconds": on["seconds"],
        "catalog_p50_ms": catalog["p50_ms"], "catalog_p99_ms": catalog["p99_ms"],
        "checkout_p50_ms": orders["p50_ms"], "checkout_p99_ms": orders["p99_ms"],
        "catalog_count": catalog["count"], "catalog_errors": catalog["errors"],
        "checkout_count": orders["count"], "checkout_errors": orders["errors"],
        "tracing_cpu_ratio": ratio(on["cpu_ms_per_request"], off["cpu_ms_per_request"], 3),
        "cpu_ms_per_request_traced": on["cpu_ms_per_request"],
        "cpu_ms_per_request_untraced": off["cpu_ms_per_request"],
        "spans_received": spans,
        "traced": on, "untraced": off,
    }
