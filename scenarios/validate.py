"""One validation function for scenario definitions, with errors that read as sentences."""

from __future__ import annotations

import math
import re

from scenarios.model import Scenario
from scenarios.scripts import restorations, sql_exists, sql_text

LOCK_TIMEOUT = re.compile(r"^\s*SET\s+(LOCAL\s+)?lock_timeout\b", re.IGNORECASE | re.MULTILINE)


class ScenarioError(ValueError):
    """A scenario definition that cannot be run; the message names the offending field."""


def _phases(s: Scenario) -> list[str]:
    errors: list[str] = []
    if not s.phases:
        return [f"scenario '{s.name}': it has no phases"]
    if s.phases[0].start_minute != 0:
        errors.append(
            f"scenario '{s.name}': phase '{s.phases[0].name}' must start at minute 0, "
            f"not {s.phases[0].start_minute}"
        )
    for prev, cur in zip(s.phases, s.phases[1:], strict=False):
        if cur.start_minute != prev.end_minute:
            errors.append(
                f"scenario '{s.name}': phase '{cur.name}' starts at minute {cur.start_minute} "
                f"but '{prev.name}' ends at {prev.end_minute}"
            )
    for p in s.phases:
        if p.end_minute <= p.start_minute:
            errors.append(
                f"scenario '{s.name}': phase '{p.name}' ends at minute {p.end_minute}, "
                f"which is not after its start {p.start_minute}"
            )
    if s.phases[-1].end_minute != s.duration_minutes:
        errors.append(
            f"scenario '{s.name}': the last phase '{s.phases[-1].name}' ends at minute "
            f"{s.phases[-1].end_minute} but the scenario lasts {s.duration_minutes} minutes"
        )
    names = [p.name for p in s.phases]
    if len(set(names)) != len(names):
        errors.append(f"scenario '{s.name}': phase names must be unique, got {names}")
    return errors


def _traffic(s: Scenario) -> list[str]:
    t, errors = s.traffic, []
    minutes = [m for m, _ in t.rpm_points]
    if not t.rpm_points or minutes != sorted(set(minutes)):
        errors.append(f"scenario '{s.name}': traffic rpm_points must have increasing minutes")
    for m, rpm in t.rpm_points:
        if not (math.isfinite(rpm) and rpm > 0):
            errors.append(f"scenario '{s.name}': traffic target at minute {m} is {rpm} RPM; it must be positive")
    if not t.stages or t.stages[0].from_minute != 0:
        errors.append(f"scenario '{s.name}': the first traffic stage must start at minute 0")
    for prev, cur in zip(t.stages, t.stages[1:], strict=False):
        if cur.from_minute <= prev.from_minute:
            errors.append(
                f"scenario '{s.name}': traffic stage '{cur.name}' starts at minute "
                f"{cur.from_minute}, not after stage '{prev.name}' at {prev.from_minute}"
            )
    for st in t.stages:
        total = sum(st.mix.shares().values())
        if abs(total - 1.0) > 1e-6 or min(st.mix.shares().values()) < 0:
            errors.append(
                f"scenario '{s.name}': the journey mix of stage '{st.name}' adds up to "
                f"{total:.3f}; the shares must be non-negative and add up to 1"
            )
        for label, value in (("catalog_overload", st.catalog_overload),
                             ("checkout_overload", st.checkout_overload),
                             ("go_live_burst", st.go_live_burst),
                             ("opening_burst", st.opening_burst),
                             ("deal_watchers", st.deal_watchers)):
            if value is not None and not (math.isfinite(value) and 0 < value <= 10):
                errors.append(
                    f"scenario '{s.name}': stage '{st.name}' has {label}={value}; "
                    "it must be above 0 and at most 10"
                )
    if not (0 <= t.think_time_seconds < math.inf and 0 < t.baseline_rpm < math.inf):
        errors.append(f"scenario '{s.name}': think time must be >= 0 and baseline RPM positive")
    return errors


def _rest(s: Scenario) -> list[str]:
    errors: list[str] = []
    missing = [name for name in (s.break_sql, s.restore_sql) if not sql_exists(name)]
    errors += [f"scenario '{s.name}': SQL file scenarios/sql/{name} does not exist" for name in missing]
    if s.break_sql not in missing and not LOCK_TIMEOUT.search(sql_text(s.break_sql)):
        errors.append(f"scenario '{s.name}': {s.break_sql} sets no lock_timeout; a break that waits for "
                      "a lock queues every query of the shop behind it")
    if not s.dropped_indexes:
        errors.append(f"scenario '{s.name}': dropped_indexes is empty")
    elif s.restore_sql not in missing:
        unrestored = [index for index, statement in restorations(s).items() if statement is None]
        if unrestored:
            errors.append(f"scenario '{s.name}': {s.restore_sql} rebuilds no index named "
                          f"{', '.join(unrestored)}; a restore must undo every drop")
    a = s.alert
    if (a.window_minutes < 1 or a.hold_minutes < 0 or not 0 < a.checkout_error_rate_gt < 1
            or not 0 < a.catalog_p95_ms_gt < math.inf):
        errors.append(
            f"scenario '{s.name}': alert '{a.name}' needs window_minutes >= 1, hold_minutes >= 0, "
            "an error rate between 0 and 1 and a positive p95 threshold"
        )
    for e in s.timeline:
        if not e.earliest <= e.minute <= e.latest <= s.duration_minutes:
            errors.append(
                f"scenario '{s.name}': expected event '{e.what}' at minute {e.minute} must lie "
                f"within its window {e.earliest}-{e.latest} and within the scenario"
            )
    alerts = [e.what for e in s.timeline if e.fires_alert]
    if len(alerts) != 1:
        errors.append(f"scenario '{s.name}': exactly one expected event must have fires_alert=True "
                      f"(the alert's window), found {len(alerts)}")
    keys = [c.key for c in s.config]
    if len(set(keys)) != len(keys):
        errors.append(f"scenario '{s.name}': config keys repeat: {keys}")
    return errors


def _targets(s: Scenario) -> list[str]:
    t = s.targets
    if t is None:
        return []
    errors: list[str] = []
    ranges = {"error_free": t.error_free, "slow_catalog": t.slow_catalog,
              "healthy_checkout": t.healthy_checkout, "failing_checkout": t.failing_checkout,
              "degraded": t.degraded}
    for label, (first, end) in ranges.items():
        if not 0 <= first < end <= s.duration_minutes:
            errors.append(f"scenario '{s.name}': target {label} covers minutes {first}-{end}; it must be a "
                          f"non-empty range within the scenario's {s.duration_minutes} minutes")
    rates = {"rpm_tolerance": t.rpm_tolerance, "healthy_max": t.healthy_max,
             "failing_rate": t.failing_rate, "failing_tolerance": t.failing_tolerance,
             "degraded_max": t.degraded_max}
    for label, value in rates.items():
        if not (math.isfinite(value) and 0 < value < 1):
            errors.append(f"scenario '{s.name}': target {label} is {value}; it must be between 0 and 1")
    low, high = t.failing_requests
    if not 0 <= low < high <= 1:
        errors.append(f"scenario '{s.name}': target failing_requests is {t.failing_requests}; it must be "
                      "(low, high) with 0 <= low < high <= 1")
    return errors


def validate(s: Scenario) -> Scenario:
    """Return the scenario unchanged, or raise ScenarioError listing every problem found."""
    if s.duration_minutes <= 0:
        raise ScenarioError(f"scenario '{s.name}': duration_minutes must be positive")
    errors = _phases(s) + _traffic(s) + _rest(s) + _targets(s)
    if errors:
        raise ScenarioError("; ".join(errors))
    return s
