"""Storefront baseline: latency of catalog listings and checkouts on the healthy stack (indexes
present, baseline pool) under a fixed open-model rate, and what tracing costs the services in
CPU per request (OTLP export to a local receiver vs OTEL_SDK_DISABLED=true).

Both configurations run side by side as their own processes and get the same traffic at the
same time, each request to the untraced side a quarter of a listing interval after its twin: on a
shared machine a neighbour's burst then lands on both, where sequential phases of the same code
read anywhere from 1.07x to 1.40x, and alternating 7.5-s windows still 1.33x to 1.49x (one
window caught a burst the other side did not). The ratio is of the summed CPU per answered
request; the per-round ratios (CPU read on both sides at each round's end) show the spread.

The latency figures come from the traced side (the storefront as deployed exports its spans),
with the untraced side's equal traffic on the same machine."""

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
from rehearsal.runner import SPAN_EXPORT_DELAY_MS
from services.calibration.driver import Outcome, Request, run_open_loop, schedule, summarize

CATALOG_RATE = 20.0  # listings per second
CHECKOUT_RATE = 5.0  # checkouts per second, each of a different in-stock product
WARMUP_S = 10.0  # full-length warm-up at the same rate (imports, EXPLAIN cache, pool, buffers)
ROUNDS = 4
ROUND_S = 15.0  # each configuration measured 60 s, the time the two sequential phases took
# The traced side exports its last batch up to OTEL_BSP_SCHEDULE_DELAY after the last answer:
# the last round's CPU is read after that, on both sides alike. Earlier rounds' tails are
# exported during the next round, as in steady traffic.
SETTLE_S = SPAN_EXPORT_DELAY_MS / 1000 + 0.5
CONFIGS = ("traced", "untraced")


def _traffic(urls: tuple[str, str], cats: Sequence[str], products: Iterator[int], seconds: float,
             first_slot: int, lag: float = 0.0) -> list[Request]:
    catalog_url, checkout_url = urls
    requests = [listing(catalog_url, cats, first_slot + i, due)
                for i, due in enumerate(schedule(CATALOG_RATE, seconds, lag))]
    offset = lag + 0.5 / CATALOG_RATE  # checkouts fall between listings
    requests += [checkout(checkout_url, pid, f"bench-storefront-{pid}", due)
                 for pid, due in zip(products, schedule(CHECKOUT_RATE, seconds, offset), strict=False)]
    return requests


def _checkouts_needed(seconds: float) -> int:
    return math.floor(CHECKOUT_RATE * seconds) + 1


def _both(urls: dict[str, tuple[str, str]], cats: Sequence[str], products: Iterator[int], seconds: float,
          slot: int) -> list[Request]:
    """The same listings to both sides, the untraced one a quarter of a listing interval later."""
    lags = {"traced": 0.0, "untraced": 0.25 / CATALOG_RATE}
    return [r for c in CONFIGS for r in _traffic(urls[c], cats, products, seconds, slot, lags[c])]


def _measure(ctx: BenchContext, env: dict[str, dict[str, str]], products: Iterator[int]) -> dict[str, Any]:
    config = {**ctx.scenario.config_values(scenario_active=False), "DEMO_MODE": "off"}
    warm, seconds = ctx.seconds(WARMUP_S), ctx.seconds(ROUND_S)
    with ExitStack() as running:
        stacks = {c: running.enter_context(services(ctx, f"storefront-{c}", config, env[c])) for c in CONFIGS}
        urls = {c: (s.url("product-catalog"), s.url("checkout")) for c, s in stacks.items()}
        bases = {c: tuple(f"{u}/" for u in urls[c]) for c in CONFIGS}
        pids = {c: list(s.pids().values()) for c, s in stacks.items()}
        cats = categories(urls["traced"][0])
        run_open_loop(_both(urls, cats, products, warm, 0))
        outcomes: dict[str, list[Outcome]] = {c: [] for c in CONFIGS}
        cpu: dict[str, list[float]] = {c: [] for c in CONFIGS}
        answered: dict[str, list[int]] = {c: [] for c in CONFIGS}
        before = {c: cpu_seconds(pids[c]) for c in CONFIGS}
        for n in range(ROUNDS):
            sent = sorted(_both(urls, cats, products, seconds, 100_000 * (n + 1)), key=lambda r: r.due)
            got = run_open_loop(sent)  # answers come back in the order of their due times
            if n == ROUNDS - 1:
                time.sleep(SETTLE_S)
            for c in CONFIGS:
                mine = [o for o, r in zip(got, sent, strict=True) if r.url.startswith(bases[c])]
                now = cpu_seconds(pids[c])
                outcomes[c] += mine
                cpu[c].append(now - before[c])
                answered[c].append(sum(o.answered for o in mine))
                before[c] = now
    return {c: _figures(outcomes[c], cpu[c], answered[c], seconds * ROUNDS) for c in CONFIGS}


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
            "OTEL_BSP_SCHEDULE_DELAY": str(SPAN_EXPORT_DELAY_MS),  # as the rehearsal exports them
            "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        }
        needed = 2 * (_checkouts_needed(ctx.seconds(WARMUP_S)) + ROUNDS * _checkouts_needed(ctx.seconds(ROUND_S)))
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
