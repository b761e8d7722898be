"""Storefront baseline: latency of catalog listings and checkouts on the healthy stack (indexes
present, baseline pool) under a fixed open-model rate, and what tracing costs the services in
CPU per request (OTLP export to a local receiver vs OTEL_SDK_DISABLED=true).

Both configurations run side by side as their own processes and are measured in alternating
windows (traced, untraced, untraced, traced, ...), each pair offered the same listings: on a
shared machine a neighbour's burst then lands on both sides instead of on one whole phase,
which made sequential phases of the same code read anywhere from 1.07x to 1.40x. The ratio is
of the summed CPU per answered request; the per-round ratios show how far one round strays.

The latency figures come from the traced windows: the storefront as deployed exports its spans."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any

from bench.context import BenchContext
from bench.openloop import categories, checkout, in_stock_products, listing, ratio, services
from bench.procs import cpu_seconds
from rehearsal.otlp import make_receiver
from rehearsal.stack import LocalStack
from services.calibration.driver import Outcome, Request, run_open_loop, schedule, summarize

CATALOG_RATE = 20.0  # listings per second
CHECKOUT_RATE = 5.0  # checkouts per second, each of a different in-stock product
WARMUP_S = 10.0  # both configurations at once (imports, EXPLAIN cache, pool, buffers)
ROUNDS = 4  # each one traced and one untraced window, in alternating order
WINDOW_S = 7.5  # so each configuration is measured for 30 s, as one sequential phase was
# The traced side exports its last batch up to OTEL_BSP_SCHEDULE_DELAY (500 ms) after the
# window's last answer: the window's CPU is read after that, on both sides alike.
SETTLE_S = 1.0
CONFIGS = ("traced", "untraced")


def _traffic(urls: tuple[str, str], cats: Sequence[str], products: Iterator[int], seconds: float,
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


def _window(stack: LocalStack, requests: list[Request]) -> tuple[list[Outcome], float]:
    pids = list(stack.pids().values())
    before = cpu_seconds(pids)
    outcomes = run_open_loop(requests)
    time.sleep(SETTLE_S)
    return outcomes, cpu_seconds(pids) - before


def _measure(ctx: BenchContext, env: dict[str, dict[str, str]], products: Iterator[int]) -> dict[str, Any]:
    config = {**ctx.scenario.config_values(scenario_active=False), "DEMO_MODE": "off"}
    warm, window = ctx.seconds(WARMUP_S), ctx.seconds(WINDOW_S)
    with ExitStack() as running:
        stacks = {c: running.enter_context(services(ctx, f"storefront-{c}", config, env[c])) for c in CONFIGS}
        urls = {c: (s.url("product-catalog"), s.url("checkout")) for c, s in stacks.items()}
        cats = categories(urls["traced"][0])
        run_open_loop([r for c in CONFIGS for r in _traffic(urls[c], cats, products, warm, 0)])
        outcomes: dict[str, list[Outcome]] = {c: [] for c in CONFIGS}
        cpu: dict[str, list[float]] = {c: [] for c in CONFIGS}
        answered: dict[str, list[int]] = {c: [] for c in CONFIGS}
        for n in range(ROUNDS):
            for c in CONFIGS if n % 2 == 0 else CONFIGS[::-1]:
                slot = 100_000 * (n + 1)  # both sides of a round list the same pages
                got, cpu_s = _window(stacks[c], _traffic(urls[c], cats, products, window, slot))
                outcomes[c] += got
                cpu[c].append(cpu_s)
                answered[c].append(sum(o.answered for o in got))
    return {c: _figures(outcomes[c], cpu[c], answered[c], window * ROUNDS) for c in CONFIGS}


def _figures(outcomes: Sequence[Outcome], cpu: list[float], answered: list[int], seconds: float) -> dict[str, Any]:
    total = sum(answered)
    return {
        "seconds": seconds,
        "catalog": summarize(outcomes, "catalog"),
        "checkout": summarize(outcomes, "checkout"),
        "answered": total,
        "cpu_s": round(sum(cpu), 3),
        "cpu_ms_per_request": round(1000 * sum(cpu) / total, 3) if total else None,
        "rounds_cpu_ms_per_request": [round(1000 * c / a, 3) if a else None
                                      for c, a in zip(cpu, answered, strict=True)],
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
        needed = 2 * (_checkouts_needed(ctx.seconds(WARMUP_S)) + ROUNDS * _checkouts_needed(ctx.seconds(WINDOW_S)))
        products = iter(in_stock_products(ctx.pg.conninfo(), needed))
        measured = _measure(ctx, {"traced": traced, "untraced": {**traced, "OTEL_SDK_DISABLED": "true"}}, products)
        spans = len(receiver.store.snapshot())
    finally:
        receiver.stop()
    on, off = measured["traced"], measured["untraced"]
    rounds = [ratio(a, b, 3) for a, b in zip(on["rounds_cpu_ms_per_request"], off["rounds_cpu_ms_per_request"],
                                             strict=True)]
    known = [r for r in rounds if r is not None]
    catalog, orders = on["catalog"], on["checkout"]
    return {
        "catalog_rate_per_s": CATALOG_RATE, "checkout_rate_per_s": CHECKOUT_RATE, "seconds": on["seconds"],
        "catalog_p50_ms": catalog["p50_ms"], "catalog_p99_ms": catalog["p99_ms"],
        "checkout_p50_ms": orders["p50_ms"], "checkout_p99_ms": orders["p99_ms"],
        "catalog_count": catalog["count"], "catalog_errors": catalog["errors"],
        "checkout_count": orders["count"], "checkout_errors": orders["errors"],
        "tracing_cpu_ratio": ratio(on["cpu_ms_per_request"], off["cpu_ms_per_request"], 3),
        "tracing_cpu_ratio_rounds": rounds,
        "tracing_cpu_ratio_spread": round(max(known) - min(known), 3) if known else None,
        "cpu_ms_per_request_traced": on["cpu_ms_per_request"],
        "cpu_ms_per_request_untraced": off["cpu_ms_per_request"],
        "spans_received": spans,
        "traced": on, "untraced": off,
    }
