"""`bfdemo alerts` writes the rules a user loads into Prometheus: the scenario's own, at the
stack's minute length, as promtool reads them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from rehearsal.cli import main
from scenarios.catalogue import get_scenario
from scenarios.prometheus import rules
from tests.scenarios.test_prometheus import promtool


def test_the_rules_file_is_the_scenarios_rules_at_the_stacks_minute(tmp_path: Path, capsys) -> None:
    assert main(["alerts", "--minute-seconds", "10", "--out", str(tmp_path)]) == 0
    path = tmp_path / "blackfriday-prometheus-rules.yml"
    assert str(path) in capsys.readouterr().out
    assert yaml.safe_load(path.read_text()) == rules(get_scenario("blackfriday"), 10)
    done = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
