"""What the presenter reads each demo minute: the seed's monitoring lines and the alert."""

from __future__ import annotations

from typing import Any

from scenarios.alert import failure_rate
from scenarios.model import Scenario


def minute_line(scenario: Scenario, record: dict[str, Any], server: dict[str, Any]) -> str:
    """The seed's monitoring lines, plus p95, catalog p95 and checkout failures."""
    checkout_rate = failure_rate(record["checkout_failures"], record["checkout_attempts"]) or 0.0
    return (
        f"--- Minute {record['minute']}/{scenario.duration_minutes} ---\n"
        f"  Phase: {record['phase']} | RPM: {record['achieved_rpm']:.0f} (target {record['target_rpm']:.0f})"
        f" | Requests: {record['requests']} | Errors: {record['errors']} ({record['error_rate']:.1%})\n"
        f"  p95: {_ms(record['p95_ms'])} | catalog p95: {_ms(record['catalog_p95_ms'])}"
        f" | checkouts: {record['checkout_attempts']} failed {record['checkout_failures']}"
        f" ({checkout_rate:.0%}) | listings: {record.get('catalog_listings', 0)} failed"
        f" {record.get('catalog_failures', 0)} | spans: pool exhausted {server['pool_exhausted_spans']},"
        f" full scans {server['full_scan_spans']}, slow {server['slow_query_spans']}"
        + _capacity(record.get("capacity"))
    )


def _capacity(sized: dict[str, Any] | None) -> str:
    """What the minute's traffic was sized from, where a live measure stood in for calibration."""
    if not sized or (sized.get("catalog_listings_per_s") is None and sized.get("checkouts_per_s") is None):
        return ""
    live = [f"{sized[k]:.2f} {unit}/s (calibrated {sized[c]:.2f})"
            for k, c, unit in (("catalog_listings_per_s", "catalog_as_calibrated", "listings"),
                               ("checkouts_per_s", "checkouts_as_calibrated", "checkouts"))
            if sized.get(k) is not None]
    return "\n  measured live: " + ", ".join(live)


def alert_line(scenario: Scenario, minute: int) -> str:
    return (f"  🚨🚨🚨 FLOW ALERT '{scenario.alert.name}' FIRED in minute {minute}: checkout errors > "
            f"{scenario.alert.checkout_error_rate_gt:.0%} and catalog p95 > {scenario.alert.catalog_p95_ms_gt:.0f} ms"
            f" over {scenario.alert.window_minutes} demo minutes, held {scenario.alert.hold_minutes} 🚨🚨🚨")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def verdict(result: dict[str, Any]) -> int:
    """Exit 1 when the database was not restored, 3 when the rehearsal missed a mark: a demo
    that would not hit its marks on stage should not look like a success here."""
    if not result["restore"]["indexes_restored"]:
        return 1
    checks = result["targets"]["checks"]
    ready = (result.get("startup") or {}).get("loadgen_ready_s_after_minute_0")
    if ready is not None:  # after minute 0, the arrivals already due were skipped
        first = result.get("from_minute", 0)  # a run that joins later is timed from the minute it joins
        print(f"Load generator ready {abs(ready):.1f} s {'before' if ready < 0 else 'AFTER'} minute {first}")
    prometheus = result.get("prometheus") or {}
    if "first_minute" in prometheus:
        fired = prometheus["first_minute"]
        print(f"Prometheus (the shipped rule): {prometheus['alert']} "
              + (f"fired in minute {fired}" if fired is not None else "never fired"))
    elif prometheus.get("skipped") or prometheus.get("error"):
        print(f"Prometheus: no verdict ({prometheus.get('skipped') or prometheus['error']})")
    print("Targets:")
    for check in checks:
        mark = "met" if check["met"] else "MISSED" if check.get("judged", True) else "not judged"
        print(f"  [{mark}] {check['name']}: {check['observed']}")
    return 0 if result["targets"]["met"] else 3
