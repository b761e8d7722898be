"""Per-minute facts from the collected server spans: what the backend would chart and alert on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rehearsal.otlp import SpanRecord
from scenarios.alert import MinuteObservation, percentile

SERVER = 2  # opentelemetry.proto SpanKind SPAN_KIND_SERVER
CHECKOUT_ROUTES = {"/checkout", "/checkout/create"}


@dataclass
class ServerMinute:
    minute: int
    catalog_ms: list[float] = field(default_factory=list)
    checkout_attempts: int = 0
    checkout_errors: int = 0          # 5xx answers: the alert's error rate
    pool_exhausted: int = 0
    full_scans: int = 0
    slow_queries: int = 0

    def observation(self) -> MinuteObservation:
        return MinuteObservation(self.minute, self.checkout_attempts, self.checkout_errors, tuple(self.catalog_ms))

    def summary(self) -> dict[str, object]:
        p95 = percentile(self.catalog_ms, 95)
        return {"minute": self.minute, "catalog_requests": len(self.catalog_ms),
                "catalog_p95_ms": round(p95, 1) if p95 is not None else None,
                "checkout_attempts": self.checkout_attempts, "checkout_errors": self.checkout_errors,
                "pool_exhausted_spans": self.pool_exhausted, "full_scan_spans": self.full_scans,
                "slow_query_spans": self.slow_queries}


def _status(span: SpanRecord) -> int:
    raw = span.attributes.get("http.response.status_code", span.attributes.get("http.status_code", 0))
    return int(raw or 0)


def server_minutes(spans: Iterable[SpanRecord], minutes: int) -> list[ServerMinute]:
    """Group server spans by the demo minute the services stamped on them when they began."""
    out: dict[int, ServerMinute] = {}
    for span in spans:
        minute = span.attributes.get("demo.minute")
        if span.kind != SERVER or minute is None or not 0 <= int(minute) < minutes:
            continue
        m = out.setdefault(int(minute), ServerMinute(int(minute)))
        route = span.attributes.get("http.route")
        m.pool_exhausted += bool(span.attributes.get("db.connection.pool.exhausted"))
        m.full_scans += bool(span.attributes.get("db.full_table_scan"))
        m.slow_queries += bool(span.attributes.get("db.slow_query"))
        if span.service == "product-catalog" and route == "/products":
            m.catalog_ms.append(span.duration_ms)
        elif span.service == "checkout" and route in CHECKOUT_ROUTES:
            m.checkout_attempts += 1
            m.checkout_errors += _status(span) >= 500
    return [out.get(i, ServerMinute(i)) for i in range(minutes)]
