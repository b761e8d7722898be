"""`bfdemo alerts`: the scenario's alert rules as files, for a user without the stack (load them
into a Prometheus with `rule_files:`, or check them with `promtool check rules`)."""

from __future__ import annotations

from pathlib import Path

import yaml

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
