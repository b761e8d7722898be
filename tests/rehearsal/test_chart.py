"""The chart says what the report says: the alert inside the minute it fired, and the error
rate of all requests beside the checkouts'."""

from __future__ import annotations

from pathlib import Path

from rehearsal.chart import draw, series
from scenarios.catalogue import get_scenario

REPORT = {
    "minute_seconds": 6,
    "alert": {"first_minute": 22},
    "minutes": [
        {"minute": 21, "target_rpm": 60, "achieved_rpm": 58, "catalog_p95_ms": 2500,
         "checkout_failures": 1, "checkout_attempts": 10, "errors": 30, "requests": 200},
        {"minute": 22, "target_rpm": 60, "achieved_rpm": 57, "catalog_p95_ms": 2600,
         "checkout_failures": 3, "checkout_attempts": 10, "errors": 0, "requests": 0},
    ],
}


def test_the_alert_is_marked_inside_its_minute_and_both_rates_are_drawn(tmp_path: Path) -> None:
    lines = series(REPORT)
    assert 22 < lines["alert_x"] < 23  # minute 22 spans [22, 23)
    assert lines["checkout_failure_pct"] == [10.0, 30.0]
    assert lines["request_error_pct"] == [15.0, 0.0]  # a minute without requests has no failures
    assert series({**REPORT, "alert": {}})["alert_x"] is None
    assert lines["prometheus_alert_x"] is None  # the report had no Prometheus
    assert 23 < series({**REPORT, "prometheus": {"first_minute": 23}})["prometheus_alert_x"] < 24
    png = draw(get_scenario("blackfriday"), REPORT, tmp_path / "report.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
