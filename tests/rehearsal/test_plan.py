"""`bfdemo plan`: what a scenario changes, from its definition alone."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from rehearsal import plan
from scenarios.blackfriday import BLACKFRIDAY
from scenarios.scripts import restorations
from scenarios.timeline import timeline
from scenarios.validate import ScenarioError, validate
from services.ports import PORTS

START = 1764338400  # 2025-11-28T14:00:00Z


def test_every_config_key_old_and_new() -> None:
    text = plan.render_plan("blackfriday")
    for change in BLACKFRIDAY.config:
        assert f"{change.key}" in text
        assert f"{change.baseline} -> {change.scenario}" in text
    assert "DEMO_START_TIMESTAMP" in text and "DEMO_MINUTE_SECONDS" in text


def test_every_dropped_index_and_its_restore_statement() -> None:
    restored = restorations(BLACKFRIDAY)
    assert set(restored) == set(BLACKFRIDAY.dropped_indexes)
    text = plan.render_plan("blackfriday")
    for index, statement in restored.items():
        assert statement is not None and index in statement
        assert statement.startswith("CREATE INDEX CONCURRENTLY")
        assert f"{index}" in text and statement in text


def test_an_index_restore_sql_forgets_is_rejected() -> None:
    broken = replace(BLACKFRIDAY, dropped_indexes=(*BLACKFRIDAY.dropped_indexes, "idx_nowhere"))
    assert restorations(broken)["idx_nowhere"] is None
    with pytest.raises(ScenarioError, match="blackfriday/restore.sql rebuilds no index named idx_nowhere"):
        validate(broken)


def test_the_deployments_that_roll() -> None:
    line = next(x for x in plan.render_plan("blackfriday").splitlines() if "roll" in x)
    for service in PORTS:
        assert service in line


def test_phases_and_alert_in_demo_minutes_and_utc() -> None:
    text = plan.render_plan("blackfriday", start=START)
    for phase in BLACKFRIDAY.phases:
        assert f"{phase.start_minute}-{phase.end_minute}" in text and phase.name in text
    assert "14:15:00Z  degradation" in text
    assert "Alert 'black-friday-checkout-meltdown' expected at minute 22 (14:22:00Z" in text
    relative = plan.render_plan("blackfriday")
    assert "T+22:00" in relative


def test_minute_seconds_scales_the_times() -> None:
    tl = timeline(BLACKFRIDAY, START, 6)
    assert tl["alert"]["utc"] == "2025-11-28T14:02:12Z"
    assert tl["phases"][-1]["startUtc"] == "2025-11-28T14:02:30Z"
    assert timeline(BLACKFRIDAY, None, 60)["alert"]["utc"] is None


def test_start_accepts_unix_and_iso() -> None:
    assert plan.parse_start("1764338400") == START
    assert plan.parse_start("2025-11-28T14:00:00Z") == START
    assert plan.parse_start("2025-11-28T15:00:00+01:00") == START


def test_unknown_scenario_names_the_allowed_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["cyber-monday"]) == 2
    assert "allowed values: blackfriday" in capsys.readouterr().err


def test_the_command_prints_the_same_plan() -> None:
    out = subprocess.run([sys.executable, "-m", "rehearsal.cli", "plan", "blackfriday", "--start",
                          "2025-11-28T14:00:00Z"], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    assert out == plan.render_plan("blackfriday", start=START)
