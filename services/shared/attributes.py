"""The telemetry contract the demo's alert depends on: attribute names, set in one place.

Every attribute states an observed fact: a plan that really scanned, a pool that really
timed out, a duration that was really measured. Nothing here consults the clock to decide
that something failed; the clock only labels spans with the demo minute and phase."""

from __future__ import annotations

import time

from opentelemetry.trace import Span

from scenarios.catalogue import SCENARIOS
from scenarios.model import demo_minute

DB_SLOW_QUERY = "db.slow_query"
DB_FULL_TABLE_SCAN = "db.full_table_scan"
DB_MISSING_INDEX = "db.missing_index"
DB_POOL_EXHAUSTED = "db.connection.pool.exhausted"
CHECKOUT_FAILED = "checkout.failed"
CHECKOUT_FAILURE_REASON = "checkout.failure_reason"
DEMO_MINUTE = "demo.minute"
DEMO_PHASE = "demo.phase"
DB_QUERY_DURATION_MS = "db.query.duration_ms"
DB_QUERY_SHAPE = "db.query.shape"


def demo_labels(
    mode: str, start: float | None, minute_seconds: float, now: float | None = None
) -> dict[str, int | str]:
    """demo.minute and demo.phase, identical in every service for the same settings."""
    if mode == "off" or start is None or mode not in SCENARIOS:
        return {DEMO_PHASE: "baseline"}
    now = time.time() if now is None else now
    if now < start:
        return {DEMO_PHASE: "pending"}
    scenario = SCENARIOS[mode]
    minute = demo_minute(now, start, minute_seconds)
    phase = scenario.phase_at(minute).name if minute < scenario.duration_minutes else "finished"
    return {DEMO_MINUTE: minute, DEMO_PHASE: phase}


def mark_query(
    span: Span, *, shape: str, duration_ms: float, slow_ms: float,
    full_scan: bool, missing_index: bool,
) -> bool:
    """Record a measured query on the span; returns whether it counted as slow."""
    slow = duration_ms > slow_ms
    # One call: the SDK takes the span's lock and checks its state once, not per attribute.
    span.set_attributes({DB_QUERY_SHAPE: shape, DB_QUERY_DURATION_MS: round(duration_ms, 2), DB_SLOW_QUERY: slow,
                         DB_FULL_TABLE_SCAN: full_scan, DB_MISSING_INDEX: missing_index})
    return slow


def mark_pool_exhausted(span: Span) -> None:
    span.set_attribute(DB_POOL_EXHAUSTED, True)


def mark_checkout(span: Span, *, failed: bool, reason: str | None = None) -> None:
    span.set_attribute(CHECKOUT_FAILED, failed)
    if reason:
        span.set_attribute(CHECKOUT_FAILURE_REASON, reason)
