"""The run's report, written once at the end: the generator's per-minute records beside what the
collected server spans show, the alert evaluated on those spans, and the stock accounting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from rehearsal.observe import server_minutes
from rehearsal.otlp import SpanRecord
from scenarios.alert import evaluate_alert
from scenarios.model import Scenario
from scenarios.targets import check_targets, summary

REPORT_FIELDS = ("minute", "phase", "target_rpm", "achieved_rpm", "requests", "errors", "error_rate",
                 "p95_ms", "catalog_p95_ms", "checkout_attempts", "checkout_failures", "catalog_listings",
                 "catalog_failures", "capacity")


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


def write_report(scenario: Scenario, minute_seconds: float, path: Path, client_minutes: list[dict[str, Any]],
                 spans: list[SpanRecord], extra: dict[str, Any]) -> dict[str, Any]:
    """The report with its verdict, as JSON at `path` and as a chart beside it."""
    from rehearsal.chart import draw  # see preload_chart

    report = build_report(scenario, minute_seconds, client_minutes, spans, extra)
    report["targets"] = summary(check_targets(scenario, report))
    path.write_text(json.dumps(report, indent=2) + "\n")
    draw(scenario, report, path.with_suffix(".png"))
    return report


def preload_chart() -> None:
    """Import the chart's matplotlib (a second) ahead of write_report, in a thread while the
    database is restored, instead of at the start of every run, whose minute 0 waits for it."""
    import rehearsal.chart  # noqa: F401


def stock_accounting(conninfo: str) -> dict[str, int]:
    """received = sold + on hand, for every product; orders without lines count as invented."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE p.stock_received <> p.stock_quantity + coalesce(s.sold, 0)), "
            "(SELECT count(*) FROM orders o WHERE NOT EXISTS "
            " (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)), "
            "(SELECT count(*) FROM orders) "
            "FROM products p LEFT JOIN (SELECT product_id, sum(quantity) AS sold FROM order_lines "
            "GROUP BY product_id) s ON s.product_id = p.id").fetchone()
    assert row is not None
    return {"products_unbalanced": row[0], "orders_without_lines": row[1], "orders": row[2]}
