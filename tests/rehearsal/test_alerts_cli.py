"""`bfdemo alerts` writes the rules a user loads into Prometheus: the scenario's own, at the
stack's minute length, as promtool reads them; and beside them the Grafana dashboard over the
same metrics at the same minute length."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from dashboards.grafana import dashboard
from rehearsal.cli import main
from scenarios.catalogue import get_scenario
from scenarios.prometheus import expressions, rules
from tests.scenarios.test_prometheus import promtool


def test_the_rules_file_is_the_scenarios_rules_at_the_stacks_minute(tmp_path: Path, capsys) -> None:
    assert main(["alerts", "--minute-seconds", "10", "--out", str(tmp_path)]) == 0
    path = tmp_path / "blackfriday-prometheus-rules.yml"
    assert str(path) in capsys.readouterr().out
    assert yaml.safe_load(path.read_text()) == rules(get_scenario("blackfriday"), 10)
    done = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dashboard_is_written_beside_the_rules_at_the_same_minute(tmp_path: Path, capsys) -> None:
    assert main(["alerts", "--minute-seconds", "6", "--out", str(tmp_path)]) == 0
    path = tmp_path / "blackfriday-grafana-dashboard.json"
    assert str(path) in capsys.readouterr().out
    board = json.loads(path.read_text())
    assert board == dashboard(get_scenario("blackfriday"), 6)
    # Its windows are the rules' at the same minute length: the p95 panel is the rule's expression.
    exprs = {t["expr"] for p in board["panels"] for t in p["targets"]}
    assert expressions(get_scenario("blackfriday"), 6)["catalog_p95_ms"] in exprs
