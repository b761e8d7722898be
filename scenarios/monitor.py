"""What the presenter sees each demo minute, and the report written at the end."""

from __future__ import annotations

from typing import Any

from scenarios.alert import evaluate_alert
from scenarios.model import Scenario
from scenarios.observe import server_minutes
from scenarios.otlp import SpanRecord

REPORT_FIELDS = ("minute", "phase", "target_rpm", "achieved_rpm", "requests", "errors", "error_rate",
                 "p95_ms", "catalog_p95_ms", "checkout_attempts", "checkout_failures")


def minute_line(scenario: Scenario, record: dict[str, Any], server: dict[str, Any]) -> str:
    """The seed's monitoring lines, plus p95, catalog p95 and checkout failures."""
    checkout_rate = (record["checkout_failures"] / record["checkout_attempts"]
                     if record["checkout_attempts"] else 0.0)
    return (
        f"--- Minute {record['minute']}/{scenario.duration_minutes} ---\n"
        f"  Phase: {record['phase']} | RPM: {record['achieved_rpm']:.0f} (target {record['target_rpm']:.0f})"
        f" | Requests: {record['requests']} | Errors: {record['errors']} ({record['error_rate']:.1%})\n"
        f"  p95: {_ms(record['p95_ms'])} | catalog p95: {_ms(record['catalog_p95_ms'])}"
        f" | checkouts: {record['checkout_attempts']} failed {record['checkout_failures']}"
        f" ({checkout_rate:.0%}) | spans: pool exhausted {server['pool_exhausted_spans']},"
        f" full scans {server['full_scan_spans']}, slow {server['slow_query_spans']}"
    )


def alert_line(scenario: Scenario, minute: int) -> str:
    return (f"  🚨🚨🚨 FLOW ALERT '{scenario.alert.name}' FIRED in minute {minute}: checkout errors > "
            f"{scenario.alert.checkout_error_rate_gt:.0%} and catalog p95 > {scenario.alert.catalog_p95_ms_gt:.0f} ms"
            f" over {scenario.alert.window_minutes} demo minutes 🚨🚨🚨")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def span_view(scenario: Scenario, spans: list[SpanRecord], through: int) -> tuple[list[dict[str, Any]], Any]:
    """Server-side per-minute summaries and the alert evaluated on them, through `through`."""
    minutes = server_minutes(spans, scenario.duration_minutes)
    alert = evaluate_alert(scenario.alert, [m.observation() for m in minutes[: through + 1]])
    return [m.summary() for m in minutes], alert


def build_report(scenario: Scenario, minute_seconds: float, client_minutes: list[dict[str, Any]],
                 spans: list[SpanRecord], extra: dict[str, Any]) -> dict[str, Any]:
    server, alert = span_view(scenario, spans, scenario.duration_minutes - 1)
    by_minute = {s["minute"]: s for s in server}
    minutes = [{**{k: m.get(k) for k in REPORT_FIELDS}, "server": by_minute.get(m["minute"], {})}
               for m in client_minutes if m.get("complete", True)]
    return {
        "scenario": scenario.name,
        "minute_seconds": minute_seconds,
        "minutes": minutes,
        "alert": {"fired": alert["fired"], "first_minute": alert["first_minute"],
                  "evaluated_on": "collected server spans"},
        **extra,
    }
