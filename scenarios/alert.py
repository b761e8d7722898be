"""The scenario's flow alert, evaluated over per-minute observations.

One pure function serves both the local runner (observations taken from collected spans) and
the load generator's status endpoint (its own observations). The window slides over completed
demo minutes; the catalog p95 is computed over every latency in the window, never averaged
from per-minute percentiles. The alert fires once the window has breached both thresholds at
the end of `hold_minutes + 1` consecutive minutes: what Prometheus' `for` does continuously
(scenarios/prometheus.py), here at each minute's end. One difference remains and is physical:
a span counts a failure in the minute its request started, a counter when it ended (a pool
timeout later), so at compressed minutes Prometheus sees the rush's failures a little later."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

from scenarios.model import AlertRule


@dataclass(frozen=True)
class MinuteObservation:
    """What was seen during one completed demo minute."""

    minute: int
    checkout_attempts: int = 0
    checkout_failures: int = 0
    catalog_latencies_ms: Sequence[float] = ()


class AlertWindow(TypedDict):
    start_minute: int
    end_minute: int
    checkout_attempts: int
    checkout_failures: int
    checkout_error_rate: float | None
    catalog_samples: int
    catalog_p95_ms: float | None
    breached: bool  # both thresholds exceeded over this window


class AlertResult(TypedDict):
    fired: bool
    first_minute: int | None
    windows: list[AlertWindow]


def failure_rate(failures: int, attempts: int) -> float | None:
    """Failures over attempts; None when nothing was attempted (no rate, rather than 0 %)."""
    return failures / attempts if attempts else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """Exact nearest-rank percentile (q in 0..100); None when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 < q <= 100:
        raise ValueError(f"percentile q must be in (0, 100], got {q}")
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _checked(minutes: Iterable[MinuteObservation]) -> dict[int, MinuteObservation]:
    by_minute: dict[int, MinuteObservation] = {}
    for obs in minutes:
        if obs.minute < 0:
            raise ValueError(f"minute {obs.minute} is negative; demo minutes start at 0")
        if obs.minute in by_minute:
            raise ValueError(f"minute {obs.minute} appears twice; give one observation per minute")
        if obs.checkout_attempts < 0 or obs.checkout_failures < 0:
            raise ValueError(f"minute {obs.minute}: checkout counts must not be negative")
        if obs.checkout_failures > obs.checkout_attempts:
            raise ValueError(
                f"minute {obs.minute}: {obs.checkout_failures} checkout failures exceed "
                f"{obs.checkout_attempts} attempts"
            )
        by_minute[obs.minute] = obs
    return by_minute


def _window(rule: AlertRule, observed: list[MinuteObservation], start: int, end: int) -> AlertWindow:
    attempts = sum(o.checkout_attempts for o in observed)
    failures = sum(o.checkout_failures for o in observed)
    latencies = [ms for o in observed for ms in o.catalog_latencies_ms]
    rate = failure_rate(failures, attempts)
    p95 = percentile(latencies, 95)
    breached = (rate is not None and rate > rule.checkout_error_rate_gt
             and p95 is not None and p95 > rule.catalog_p95_ms_gt)
    return AlertWindow(
        start_minute=start, end_minute=end, checkout_attempts=attempts,
        checkout_failures=failures, checkout_error_rate=rate, catalog_samples=len(latencies),
        catalog_p95_ms=p95, breached=breached,
    )


def evaluate_alert(rule: AlertRule, minutes: Iterable[MinuteObservation]) -> AlertResult:
    """Evaluate `rule` over sliding windows of `rule.window_minutes` completed minutes.

    A window ends at each minute from (first observed minute + window - 1) to the last observed
    minute; minutes missing in between count as minutes with no observations. A window is
    breached when the checkout error rate exceeds its threshold AND the catalog p95 over all the
    window's latencies exceeds its threshold; a window without checkouts or without catalog
    latencies cannot be. `first_minute` is the end minute of the first window that was breached
    along with the `rule.hold_minutes` windows before it.
    """
    if rule.window_minutes < 1 or rule.hold_minutes < 0:
        raise ValueError(f"alert '{rule.name}': window_minutes must be at least 1 and hold_minutes "
                         f"at least 0, got {rule.window_minutes} and {rule.hold_minutes}")
    by_minute = _checked(minutes)
    windows: list[AlertWindow] = []
    if by_minute:
        first, last = min(by_minute), max(by_minute)
        for end in range(first + rule.window_minutes - 1, last + 1):
            start = end - rule.window_minutes + 1
            observed = [by_minute[m] for m in range(start, end + 1) if m in by_minute]
            windows.append(_window(rule, observed, start, end))
    first_fired = next((w["end_minute"] for i, w in enumerate(windows) if i >= rule.hold_minutes
                        and all(h["breached"] for h in windows[i - rule.hold_minutes: i + 1])), None)
    return AlertResult(fired=first_fired is not None, first_minute=first_fired, windows=windows)
