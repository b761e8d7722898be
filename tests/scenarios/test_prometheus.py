"""The scenario's alert as Prometheus rules: promtool checks them, and its unit-test runner
evaluates them over series shaped as the outage builds. The flow fires only once both
conditions, each over the alert's window, have held together for its hold, and never on one of
them alone. test_prometheus_recorded.py replays series a real rehearsal recorded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scenarios.catalogue import get_scenario
from scenarios.metrics import request_buckets_ms
from scenarios.prometheus import duration, rules, rules_text

MINUTE = 10.0  # seconds per demo minute, as make twin plays it
STEP = 2  # seconds between samples (the group's evaluation interval at 10-s minutes)
SAMPLES = 76  # 150 s


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            raise AssertionError("promtool is missing: make system installs Debian's prometheus")
        pytest.skip("promtool is not installed (make system)")
    return found


def counter(per_step: list[float]) -> str:
    """A counter's samples, from how much it grows at each step."""
    total, values = 0.0, []
    for growth in per_step:
        total += growth
        values.append(f"{total:g}")
    return " ".join(values)


def series(slow_from: float, failing: list[tuple[float, float]]) -> list[dict[str, str]]:
    """Listings answer in 100 ms until `slow_from`, then in 3 s; half the checkouts fail within
    the (start, end) seconds of `failing`, none outside them. One listing and one checkout a step."""
    times = [i * STEP for i in range(SAMPLES)]
    fails = [0.5 if any(a <= t < b for a, b in failing) else 0.0 for t in times]
    out = [{"series": "checkout_attempted_total", "values": counter([1.0] * SAMPLES)},
           {"series": "checkout_failed_total", "values": counter(fails)}]
    labels = 'service_name="product-catalog",http_route="/products",http_response_status_code="200"'
    for bound in [*request_buckets_ms(), float("inf")]:
        le = "+Inf" if bound == float("inf") else f"{bound:g}"
        growth = [1.0 if (100 if t < slow_from else 3000) <= bound else 0.0 for t in times]
        out.append({"series": f'storefront_request_duration_milliseconds_bucket{{{labels},le="{le}"}}',
                    "values": counter(growth)})
    return out


def run_tests(tmp_path: Path, input_series: list[dict[str, str]],
              checks: list[dict]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yml").write_text(rules_text(get_scenario("blackfriday"), MINUTE))
    test = {"rule_files": ["rules.yml"], "evaluation_interval": duration(STEP),
            "tests": [{"interval": duration(STEP), "input_series": input_series, "alert_rule_test": checks}]}
    (tmp_path / "test.yml").write_text(json.dumps(test))
    return subprocess.run([promtool(), "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True,
                          check=False)


def flow(at: int, firing: bool) -> dict:
    alert = get_scenario("blackfriday").alert
    rule = next(r for g in rules(get_scenario("blackfriday"), MINUTE)["groups"] for r in g["rules"]
                if r["alert"] == alert.name)
    expected = [{"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}] if firing else []
    return {"eval_time": duration(at), "alertname": alert.name, "exp_alerts": expected}


def test_promtool_accepts_the_rules_at_demo_and_real_minutes(tmp_path: Path) -> None:
    for minute in (6.0, 10.0, 60.0):
        (tmp_path / f"rules-{minute:g}.yml").write_text(rules_text(get_scenario("blackfriday"), minute))
    done = subprocess.run([promtool(), "check", "rules", *sorted(map(str, tmp_path.glob("*.yml")))],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.count("SUCCESS: 3 rules found") == 3, done.stdout + done.stderr


def test_the_flow_fires_once_both_conditions_held_for_a_demo_minute(tmp_path: Path) -> None:
    # The catalog is slow from 40 s, half the checkouts fail from 60 s: over the 20-s window
    # the failing share passes 20 % at 68 s (rate() extrapolates to the window's edges), and
    # the flow waits one demo minute (10 s) more.
    done = run_tests(tmp_path, series(40, [(60, 1000)]),
                     [flow(60, firing=False), flow(68, firing=False), flow(76, firing=False),
                      flow(78, firing=True), flow(120, firing=True)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_either_condition_alone_never_fires_the_flow(tmp_path: Path) -> None:
    failing_only = run_tests(tmp_path, series(10_000, [(60, 1000)]), [flow(t, firing=False) for t in (80, 120)])
    assert failing_only.returncode == 0, failing_only.stdout + failing_only.stderr
    slow_only = run_tests(tmp_path, series(40, []), [flow(t, firing=False) for t in (80, 120)])
    assert slow_only.returncode == 0, slow_only.stdout + slow_only.stderr
    # The same checks do see the flow when both hold: they can fail.
    both = run_tests(tmp_path, series(40, [(60, 1000)]), [flow(120, firing=False)])
    assert both.returncode != 0
