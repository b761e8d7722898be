"""The shipped rules over series a real rehearsal recorded: promtool's unit-test runner replays
the counters and histograms a `make demo` run's Prometheus scraped (10-s demo minutes, minutes
12-30; tools/record_series.py wrote them) and the Flow Alert must fire inside the scenario's
expected window, and not before it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from scenarios.catalogue import get_scenario
from scenarios.prometheus import duration, rules, rules_text
from tests.scenarios.test_prometheus import promtool

DATA = Path(__file__).parent / "data" / "blackfriday-make-demo-10s.json"


def replay(tmp_path: Path, checks: list[dict]) -> subprocess.CompletedProcess[str]:
    recorded = json.loads(DATA.read_text())
    (tmp_path / "rules.yml").write_text(rules_text(get_scenario("blackfriday"), recorded["minute_seconds"]))
    step = duration(recorded["step_s"])
    test = {"rule_files": ["rules.yml"], "evaluation_interval": step,
            "tests": [{"interval": step, "input_series": recorded["input_series"], "alert_rule_test": checks}]}
    (tmp_path / "test.yml").write_text(json.dumps(test))
    return subprocess.run([promtool(), "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True,
                          text=True, check=False)


def at(minute: float, alertname: str, firing: bool) -> dict:
    """A check at demo `minute` (the recorded series start at their `from_minute`): the alert
    firing with the labels and annotations the rule gives it, or not at all."""
    recorded = json.loads(DATA.read_text())
    seconds = (minute - recorded["from_minute"]) * recorded["minute_seconds"]
    rule = next(r for g in rules(get_scenario("blackfriday"), recorded["minute_seconds"])["groups"]
                for r in g["rules"] if r["alert"] == alertname)
    expected = [{"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}] if firing else []
    return {"eval_time": duration(seconds), "alertname": alertname, "exp_alerts": expected}


def steps(first: float, last: float) -> list[float]:
    recorded = json.loads(DATA.read_text())
    per_minute = recorded["minute_seconds"] / recorded["step_s"]
    return [first + i / per_minute for i in range(int(round((last - first) * per_minute)) + 1)]


def test_the_recorded_rehearsal_fires_the_flow_inside_its_window_and_not_before(tmp_path: Path) -> None:
    scenario = get_scenario("blackfriday")
    window = scenario.alert_event()
    quiet = [at(m, scenario.alert.name, firing=False) for m in steps(14, window.earliest)]
    # Firing by the last evaluation of the window's last minute.
    done = replay(tmp_path, [*quiet, at(window.latest + 0.8, scenario.alert.name, firing=True)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_catalog_alert_fires_with_the_sale_and_the_checkout_alert_with_the_rush(tmp_path: Path) -> None:
    checks = [at(14.8, "CatalogListingSlow", firing=False), at(14.8, "CheckoutErrorsHigh", firing=False),
              at(19.8, "CheckoutErrorsHigh", firing=False), at(16.8, "CatalogListingSlow", firing=True),
              at(24.8, "CheckoutErrorsHigh", firing=True)]
    done = replay(tmp_path, checks)
    assert done.returncode == 0, done.stdout + done.stderr
