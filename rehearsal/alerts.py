"""`bfdemo alerts`: the scenario's alert rules as files, for a user without the stack (load them
into a Prometheus with `rule_files:`, or check them with `promtool check rules`), and the
dashboard over the same metrics for a Grafana reading that Prometheus."""

from __future__ import annotations

from pathlib import Path

import yaml

from dashboards.grafana import dashboard_text
from scenarios.catalogue import get_scenario
from scenarios.prometheus import rules


def write_rules(scenario_name: str, minute_seconds: float, out: Path) -> Path:
    """The Prometheus rules file of `scenario_name` at `minute_seconds` per demo minute."""
    scenario = get_scenario(scenario_name)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{scenario.name}-prometheus-rules.yml"
    header = (f"# {scenario.name}'s Flow Alert at {minute_seconds:g} s per demo minute, generated from "
              "scenarios/ by `bfdemo alerts`: do not edit.\n")
    path.write_text(header + yaml.safe_dump(rules(scenario, minute_seconds), sort_keys=False, width=1000))
    return path


def write_dashboard(scenario_name: str, minute_seconds: float, out: Path) -> Path:
    """The Grafana dashboard of `scenario_name` at `minute_seconds` per demo minute, beside its rules
    (Dashboards > New > Import; it asks for the Prometheus that evaluates them)."""
    scenario = get_scenario(scenario_name)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{scenario.name}-grafana-dashboard.json"
    path.write_text(dashboard_text(scenario, minute_seconds))
    return path
