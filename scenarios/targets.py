"""Did a rehearsal hit its marks? Each target of the scenario is checked against the report,
and says what it saw, so a missed mark reads as a sentence, not as a boolean.

A stretch (`--from-minute N`) is judged on the minutes it ran: every span is clipped to start
at N, and a target whose span lies wholly before N is reported as not judged, never as met."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from scenarios.alert import failure_rate
from scenarios.model import Scenario, Targets


@dataclass(frozen=True)
class TargetCheck:
    name: str
    met: bool
    observed: str
    judged: bool = True


def _in(minutes: list[dict[str, Any]], span: tuple[int, int]) -> list[dict[str, Any]]:
    return [m for m in minutes if span[0] <= m["minute"] < span[1]]


def _checkout_rate(minutes: list[dict[str, Any]]) -> tuple[float | None, str]:
    failed = sum(m["checkout_failures"] for m in minutes)
    attempts = sum(m["checkout_attempts"] for m in minutes)
    rate = failure_rate(failed, attempts)
    return rate, f"{failed}/{attempts}" + (f" = {rate:.1%}" if rate is not None else "")


def _rpm(t: Targets, minutes: list[dict[str, Any]]) -> TargetCheck:
    errors = [(abs(m["achieved_rpm"] - m["target_rpm"]) / m["target_rpm"], m["minute"]) for m in minutes]
    worst, at = max(errors, default=(0.0, None))
    return TargetCheck("achieved RPM", bool(minutes) and worst <= t.rpm_tolerance,
                       f"worst |achieved - target| / target {worst:.1%} (minute {at}); allowed {t.rpm_tolerance:.0%}")


def _error_free(t: Targets, minutes: list[dict[str, Any]]) -> TargetCheck:
    seen = _in(minutes, t.error_free)
    errors = sum(m["errors"] for m in seen)
    return TargetCheck(f"no failed request in minutes {t.error_free[0]}-{t.error_free[1] - 1}",
                       len(seen) == t.error_free[1] - t.error_free[0] and errors == 0,
                       f"{errors} failed of {sum(m['requests'] for m in seen)} requests over {len(seen)} minutes")


def _slow_catalog(t: Targets, threshold: float, minutes: list[dict[str, Any]]) -> TargetCheck:
    seen = _in(minutes, t.slow_catalog)
    fast = [m["minute"] for m in seen if (m["catalog_p95_ms"] or 0) < threshold]
    lowest = min((m["catalog_p95_ms"] or 0 for m in seen), default=0)
    return TargetCheck(f"catalog p95 >= {threshold:.0f} ms in minutes {t.slow_catalog[0]}-{t.slow_catalog[1] - 1}",
                       len(seen) == t.slow_catalog[1] - t.slow_catalog[0] and not fast,
                       f"lowest {lowest:.0f} ms" + (f"; below in minutes {fast}" if fast else ""))


def _checkouts(t: Targets, minutes: list[dict[str, Any]]) -> list[TargetCheck]:
    rate, seen = _checkout_rate(_in(minutes, t.healthy_checkout))
    healthy = TargetCheck(
        f"checkout failures < {t.healthy_max:.0%} over minutes {t.healthy_checkout[0]}-{t.healthy_checkout[1] - 1}",
        rate is not None and rate < t.healthy_max, seen)
    rate, seen = _checkout_rate(_in(minutes, t.failing_checkout))
    low, high = t.failing_rate - t.failing_tolerance, t.failing_rate + t.failing_tolerance
    failing = TargetCheck(
        f"checkout failures {low:.0%}-{high:.0%} over minutes {t.failing_checkout[0]}-{t.failing_checkout[1] - 1}",
        rate is not None and low <= rate <= high, seen)
    return [healthy, failing]


def _degraded(t: Targets, minutes: list[dict[str, Any]]) -> TargetCheck:
    seen = _in(minutes, t.degraded)
    shares = [(failure_rate(m["errors"], m["requests"]) or 0.0, m["minute"]) for m in seen]
    worst, at = max(shares, default=(0.0, None))
    return TargetCheck(
        f"at most {t.degraded_max:.0%} of all requests failing in each of minutes {t.degraded[0]}-{t.degraded[1] - 1}",
        len(seen) == t.degraded[1] - t.degraded[0] and worst <= t.degraded_max,
        f"worst {worst:.1%} (minute {at})")


def _failing_requests(t: Targets, minutes: list[dict[str, Any]]) -> TargetCheck:
    seen = _in(minutes, t.failing_checkout)
    failed, requests = sum(m["errors"] for m in seen), sum(m["requests"] for m in seen)
    rate = failure_rate(failed, requests)
    low, high = t.failing_requests
    first, end = t.failing_checkout
    return TargetCheck(
        f"{low:.0%}-{high:.0%} of all requests failing over minutes {first}-{end - 1}",
        rate is not None and low <= rate <= high,
        f"{failed}/{requests}" + (f" = {rate:.1%}" if rate is not None else ""))


def _first_failing(t: Targets, minutes: list[dict[str, Any]], failed: str, total: str) -> int | None:
    return next((m["minute"] for m in sorted(minutes, key=lambda m: m["minute"])
                 if m["minute"] >= t.degraded[0]
                 and (failure_rate(m.get(failed, 0), m.get(total, 0)) or 0.0) > t.degraded_max), None)


def _checkouts_first(t: Targets, minutes: list[dict[str, Any]]) -> TargetCheck:
    name = f"checkouts fail (> {t.degraded_max:.0%} in a minute) before the catalog's listings do"
    if not any("catalog_listings" in m for m in minutes):
        return TargetCheck(name, False, "the report counts no catalog listings")
    checkout = _first_failing(t, minutes, "checkout_failures", "checkout_attempts")
    catalog = _first_failing(t, minutes, "catalog_failures", "catalog_listings")
    met = checkout is not None and (catalog is None or checkout < catalog)
    return TargetCheck(name, met, f"checkouts from minute {checkout}, listings from minute {catalog}")


def _alert(scenario: Scenario, alert: dict[str, Any], by: str = "") -> TargetCheck:
    event = scenario.alert_event()
    first = alert.get("first_minute")
    met = first is not None and event.earliest <= first <= event.latest
    return TargetCheck(f"{by}alert first fires in minutes {event.earliest:g}-{event.latest:g}", met,
                       f"first fired in minute {first}" if first is not None else "never fired")


def _prometheus_alert(scenario: Scenario, report: dict[str, Any]) -> TargetCheck:
    """The shipped rule, as a real Prometheus evaluated it beside the run. Not judged where the
    run had no Prometheus (the package is missing); a Prometheus that failed to answer is a miss."""
    record = report.get("prometheus") or {"skipped": "the report has no Prometheus record"}
    if "skipped" in record:
        check = _alert(scenario, {}, "Prometheus: ")
        return dataclasses.replace(check, met=False, observed=f"not judged: {record['skipped']}", judged=False)
    if "error" in record:
        return dataclasses.replace(_alert(scenario, {}, "Prometheus: "), observed=record["error"])
    return _alert(scenario, record, "Prometheus: ")


def _aftermath(report: dict[str, Any]) -> TargetCheck:
    restore, stock = report.get("restore", {}), report.get("stock", {})
    met = (bool(restore.get("indexes_restored")) and not restore.get("invalid_indexes")
           and stock.get("products_unbalanced") == 0 and stock.get("orders_without_lines") == 0)
    return TargetCheck("restored, stock balanced", met,
                       f"indexes restored {restore.get('indexes_restored')}, invalid {restore.get('invalid_indexes')}, "
                       f"unbalanced products {stock.get('products_unbalanced')}, "
                       f"orders without lines {stock.get('orders_without_lines')}")


def _from(span: tuple[int, int], first: int) -> tuple[int, int]:
    return max(first, span[0]), span[1]


def _judged(check: Callable[[Targets], TargetCheck], full: Targets, clipped: Targets,
            span: Callable[[Targets], tuple[int, int]], first: int) -> TargetCheck:
    """The check over the covered part of its span, or, named by its whole span, not judged."""
    if span(clipped)[0] < span(clipped)[1]:
        return check(clipped)
    return TargetCheck(check(full).name, False, f"not judged: the run covered minutes from {first} on", judged=False)


def check_targets(scenario: Scenario, report: dict[str, Any]) -> list[TargetCheck]:
    """Every target of the scenario against a run's report; empty when it declares none."""
    full = scenario.targets
    if full is None:
        return []
    first = int(report.get("from_minute", 0))
    # A stretch starts its generator just before minute `first`: that partial minute is left out.
    minutes = [m for m in report["minutes"] if m["minute"] >= first]
    t = dataclasses.replace(
        full, error_free=_from(full.error_free, first), slow_catalog=_from(full.slow_catalog, first),
        healthy_checkout=_from(full.healthy_checkout, first), failing_checkout=_from(full.failing_checkout, first),
        degraded=_from(full.degraded, first))
    event = scenario.alert_event()

    def judged(check: Callable[[Targets], TargetCheck], span: Callable[[Targets], tuple[int, int]]) -> TargetCheck:
        return _judged(check, full, t, span, first)

    return [_rpm(t, minutes), judged(lambda x: _error_free(x, minutes), lambda x: x.error_free),
            judged(lambda x: _slow_catalog(x, scenario.alert.catalog_p95_ms_gt, minutes), lambda x: x.slow_catalog),
            judged(lambda x: _degraded(x, minutes), lambda x: x.degraded),
            judged(lambda x: _checkouts(x, minutes)[0], lambda x: x.healthy_checkout),
            judged(lambda x: _checkouts(x, minutes)[1], lambda x: x.failing_checkout),
            judged(lambda x: _failing_requests(x, minutes), lambda x: x.failing_checkout),
            *([judged(lambda x: _checkouts_first(x, minutes), lambda x: x.degraded)] if t.checkouts_fail_first else []),
            judged(lambda x: _alert(scenario, report["alert"]), lambda x: (first, int(event.earliest))),
            judged(lambda x: _prometheus_alert(scenario, report), lambda x: (first, int(event.earliest))),
            _aftermath(report)]


def summary(checks: list[TargetCheck]) -> dict[str, Any]:
    return {"met": all(c.met for c in checks if c.judged), "checks": [asdict(c) for c in checks]}

