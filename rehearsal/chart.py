"""The timeline chart: RPM, catalog p95, and the failure rates of checkouts and of all requests
per demo minute, phases shaded, the alert marked inside the minute it fired (as the title and
the report say it): ours dashed, Prometheus' dotted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

from scenarios.alert import failure_rate  # noqa: E402
from scenarios.model import Scenario  # noqa: E402

PHASE_COLOURS = ("#e8f4ea", "#d6ecf9", "#fff2cc", "#fde0c5", "#f8cbcb")


def percent(failures: int, attempts: int) -> float:
    return 100 * (failure_rate(failures, attempts) or 0)


def series(report: dict[str, Any]) -> dict[str, Any]:
    """What the chart draws: each demo minute m spans [m, m+1) and is plotted at its middle."""
    minutes = report["minutes"]
    first = report["alert"].get("first_minute")
    by_prometheus = (report.get("prometheus") or {}).get("first_minute")
    return {
        "x": [m["minute"] + 0.5 for m in minutes],
        "checkout_failure_pct": [percent(m["checkout_failures"], m["checkout_attempts"]) for m in minutes],
        "request_error_pct": [percent(m["errors"], m["requests"]) for m in minutes],
        "alert_x": None if first is None else first + 0.5,
        "prometheus_alert_x": None if by_prometheus is None else by_prometheus + 0.5,
    }


def draw(scenario: Scenario, report: dict[str, Any], path: Path) -> Path:
    minutes = report["minutes"]
    lines = series(report)
    xs = lines["x"]
    fig, (top, mid, low) = plt.subplots(3, 1, figsize=(11, 8), sharex=True)
    for axis in (top, mid, low):
        for phase, colour in zip(scenario.phases, PHASE_COLOURS, strict=False):
            axis.axvspan(phase.start_minute, phase.end_minute, color=colour, zorder=0)
        if lines["alert_x"] is not None:
            axis.axvline(lines["alert_x"], color="red", linestyle="--", linewidth=1.5)
        if lines["prometheus_alert_x"] is not None:
            axis.axvline(lines["prometheus_alert_x"], color="purple", linestyle=":", linewidth=2)
    top.plot(xs, [m["target_rpm"] for m in minutes], "k--", label="target RPM")
    top.plot(xs, [m["achieved_rpm"] for m in minutes], "b-o", markersize=3, label="achieved RPM")
    top.set_ylabel("journeys / min")
    top.legend(loc="lower right")
    mid.plot(xs, [m["catalog_p95_ms"] or 0 for m in minutes], "m-o", markersize=3, label="catalog p95")
    mid.axhline(scenario.alert.catalog_p95_ms_gt, color="grey", linewidth=0.8)
    mid.set_ylabel("ms")
    mid.legend(loc="upper left")
    low.plot(xs, lines["checkout_failure_pct"], "r-o", markersize=3, label="checkouts failing %")
    low.plot(xs, lines["request_error_pct"], "-s", color="darkorange", markersize=3, label="all requests failing %")
    low.axhline(100 * scenario.alert.checkout_error_rate_gt, color="grey", linewidth=0.8)
    low.set_ylabel("%")
    low.set_xlabel("demo minute")
    low.legend(loc="upper left")
    for phase in scenario.phases:
        top.text((phase.start_minute + phase.end_minute) / 2, top.get_ylim()[1] * 0.95, phase.name,
                 ha="center", va="top", fontsize=8)
    alert, by_prometheus = report["alert"].get("first_minute"), (report.get("prometheus") or {}).get("first_minute")
    title = f"{scenario.name}: {report['minute_seconds']:g} s per demo minute — alert fired in minute "
    fig.suptitle(f"{title}{alert if alert is not None else '(never)'} (ours, dashed), "
                 f"{by_prometheus if by_prometheus is not None else '(never)'} (Prometheus, dotted)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
