"""The metrics every stack exposes, by their OpenTelemetry names: the services record them, serve
them on GET /metrics (services/shared/exposition.py) and send them over OTLP; the alert rules and
the dashboard are written over these names and nothing else, so the rule proven on a laptop is
the rule shipped. Histogram buckets include every scenario's thresholds, so a quantile or a
"slower than" count is exact where the alert looks."""

from __future__ import annotations

import re

from scenarios.catalogue import SCENARIOS

# Every storefront request, in ms: attributes service.name (resource), http.route,
# http.response.status_code.
REQUEST_DURATION = "storefront.request.duration"
CHECKOUT_ATTEMPTED = "checkout.attempted"
CHECKOUT_FAILED = "checkout.failed"
CHECKOUT_REVENUE = "checkout.revenue"
CHECKOUT_LOST_REVENUE = "checkout.failed.revenue"
POOL_WAITING = "db.pool.waiting"
POOL_TIMEOUTS = "db.pool.timeouts"  # a request that found no connection within the pool timeout

BASE_BUCKETS_MS = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0, 60000.0)


def request_buckets_ms() -> tuple[float, ...]:
    """The base buckets and every scenario's latency threshold (blackfriday: 2,000 ms)."""
    thresholds = {float(s.alert.catalog_p95_ms_gt) for s in SCENARIOS.values()}
    return tuple(sorted(set(BASE_BUCKETS_MS) | thresholds))


UNITS = {"ms": "milliseconds", "s": "seconds", "By": "bytes", "1": "", "": ""}
INVALID = re.compile(r"[^a-zA-Z0-9_]")


def prometheus_name(name: str, unit: str = "", *, counter: bool = False) -> str:
    """An instrument's name as Prometheus shows it (OpenTelemetry's compatibility rules): dots
    become underscores, the unit is a suffix, a monotonic sum ends in `_total`."""
    base = INVALID.sub("_", name)
    suffix = UNITS.get(unit, INVALID.sub("_", unit).lower())
    if suffix and not base.endswith(f"_{suffix}"):
        base = f"{base}_{suffix}"
    return f"{base}_total" if counter else base


# The load generator's own (GET /metrics on it). Journeys started, by `journey` (its kind).
LOADGEN_JOURNEYS = "loadgen.journeys"
# Gauge: the timeline's target for the current demo minute, journeys per real minute, this
# replica's share (sum over replicas for the whole); the baseline's rate when no demo plays.
LOADGEN_TARGET_RPM = "loadgen.target.rpm"
# Gauge: the demo minute being played, -1 when no demo plays.
DEMO_MINUTE = "demo.minute"
# Counter: +1 per timeline marker, by demo.step, demo.phase, demo.kind (phase, actor, fault,
# alert); a dashboard draws each increment as an annotation.
DEMO_MARKER = "demo.marker"
