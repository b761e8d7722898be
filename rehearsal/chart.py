"""The timeline chart: RPM, catalog p95 and checkout failure rate per demo minute, phases shaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

from scenarios.alert import failure_rate  # noqa: E402
from scenarios.model import Scenario  # noqa: E402

PHASE_COLOURS = ("#e8f4ea", "#d6ecf9", "#fff2cc", "#fde0c5", "#f8cbcb")


def draw(scenario: Scenario, report: dict[str, Any], path: Path) -> Path:
    minutes = report["minutes"]
    xs = [m["minute"] + 0.5 for m in minutes]
    fig, (top, mid, low) = plt.subplots(3, 1, figsize=(11, 8), sharex=True)
    for axis in (top, mid, low):
        for phase, colour in zip(scenario.phases, PHASE_COLOURS, strict=False):
            axis.axvspan(phase.start_minute, phase.end_minute, color=colour, zorder=0)
        first = report["alert"].get("first_minute")
        if first is not None:
            axis.axvline(first + 1, color="red", linestyle="--", linewidth=1.5)
    top.plot(xs, [m["target_rpm"] for m in minutes], "k--", label="target RPM")
    top.plot(xs, [m["achieved_rpm"] for m in minutes], "b-o", markersize=3, label="achieved RPM")
    top.set_ylabel("journeys / min")
    top.legend(loc="lower right")
    mid.plot(xs, [m["catalog_p95_ms"] or 0 for m in minutes], "m-o", markersize=3, label="catalog p95")
    mid.axhline(scenario.alert.catalog_p95_ms_gt, color="grey", linewidth=0.8)
    mid.set_ylabel("ms")
    mid.legend(loc="upper left")
    rates = [100 * (failure_rate(m["checkout_failures"], m["checkout_attempts"]) or 0) for m in minutes]
    low.plot(xs, rates, "r-o", markersize=3, label="checkout failure %")
    low.axhline(100 * scenario.alert.checkout_error_rate_gt, color="grey", linewidth=0.8)
    low.set_ylabel("%")
    low.set_xlabel("demo minute")
    low.legend(loc="upper left")
    for phase in scenario.phases:
        top.text((phase.start_minute + phase.end_minute) / 2, top.get_ylim()[1] * 0.95, phase.name,
                 ha="center", va="top", fontsize=8)
    alert = report["alert"].get("first_minute")
    title = f"{scenario.name}: {report['minute_seconds']:g} s per demo minute"
    fig.suptitle(title + (f" — alert fired in minute {alert}" if alert is not None else " — alert never fired"))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
